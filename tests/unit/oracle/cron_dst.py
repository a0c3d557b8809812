#!/usr/bin/python3
"""Oracle for cron fire times across DST transitions (test_cron.c).

An independent, deliberately slow implementation of cron-semantics.md's
wall-clock rules: for each transition it walks every minute of a 60-hour
window with zoneinfo and applies the rules literally:

- follows-the-clock job (second, minute or hour field starts with '*'):
  fires at every instant whose wall time matches;
- fixed-time job: fires at the first instant showing a matching wall time
  (a repeated wall time is skipped), and once at the transition instant
  when some wall time skipped by a gap matches (day fields checked against
  the skipped wall time's own date).

Output (stdout, TSV): zone, expression, start, end, fires in (start, end]
as comma-separated Unix seconds ('-' when none).
Only the plain cron syntax is understood here: *, ?, numbers, a-b, /n, lists.
"""
import os
import sys

# Python puts this script's folder first on sys.path, where sibling oracles
# (calendar.py) would shadow the standard library modules of the same name.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != _here]

import datetime as dt  # noqa: E402
import zoneinfo  # noqa: E402

UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1)

# (zone, first year, last year): every transition in those years is tested
ZONES = [
    ("Europe/Paris", 2025, 2026),
    ("America/New_York", 2025, 2026),
    ("Australia/Sydney", 2025, 2025),
    ("Australia/Lord_Howe", 2025, 2025),   # 30-minute DST
    ("America/Santiago", 2025, 2025),      # transitions at local midnight
    ("America/Havana", 2025, 2025),        # transitions at local midnight
    ("Pacific/Chatham", 2025, 2025),       # +12:45/+13:45, at 02:45/03:45
    ("America/Nuuk", 2025, 2025),          # gap 23:00 -> 00:00 (across midnight)
    ("Pacific/Apia", 2011, 2011),          # 2011-12-30 skipped entirely
    ("Asia/Pyongyang", 2018, 2018),        # gap 23:30 -> 00:00
]

FIXED = [
    "0 0 * * *", "30 2 * * *", "0 2 * * *", "15,45 1-3 * * *", "0 23 * * *",
    "30 23 * * *", "50 2 * * *", "10 30 2 * * *", "0 0-4 * * *",
    "0,30 0-3 * * *", "59 59 23 * * *", "0 12 * * *",
]
FOLLOWS = [
    "0 * * * *", "*/15 * * * *", "30 * * * *", "45 * * * *", "0 */2 * * *",
    "*/20 * 2 * * *", "* * * * *",
]

FIELDS5 = ["minute", "hour", "dom", "month", "dow"]
RANGES = {"second": (0, 59), "minute": (0, 59), "hour": (0, 23),
          "dom": (1, 31), "month": (1, 12), "dow": (0, 7)}


def expand(text, name):
    lo, hi = RANGES[name]
    out = set()
    for part in text.split(","):
        step, stepped = 1, "/" in part
        if stepped:
            part, s = part.split("/")
            step = int(s)
        if part in ("*", "?"):
            a, b = lo, hi
        elif "-" in part:
            a, b = (int(x) for x in part.split("-"))
        else:
            a = int(part)
            b = hi if stepped else a   # a/n means a-max/n
        out.update(range(a, b + 1, step))
    if name == "dow" and 7 in out:
        out.discard(7)
        out.add(0)
    return out


class Cron:
    def __init__(self, expr):
        f = expr.split()
        if len(f) == 5:
            f = ["0"] + f
        self.texts = f
        names = ["second"] + FIELDS5
        self.sets = {n: expand(t, n) for n, t in zip(names, f)}
        self.follows = any(t.startswith("*") for t in f[:3])
        dom_t, dow_t = f[3], f[5]
        self.day_and = (dom_t.startswith("*") or dom_t == "?" or
                        dow_t.startswith("*") or dow_t == "?")

    def day_ok(self, d):
        s = self.sets
        dom = d.day in s["dom"]
        dow = (d.weekday() + 1) % 7 in s["dow"]
        if self.day_and:
            return dom and dow
        return dom or dow

    def minute_ok(self, wall):
        """wall: naive local datetime at a whole minute"""
        s = self.sets
        return (wall.minute in s["minute"] and wall.hour in s["hour"] and
                wall.month in s["month"] and self.day_ok(wall))


def offset(z, t):
    return int(dt.datetime.fromtimestamp(t, z).utcoffset().total_seconds())


def transitions(z, y0, y1):
    t = int(dt.datetime(y0, 1, 1, tzinfo=UTC).timestamp()) - 86400
    end = int(dt.datetime(y1 + 1, 1, 1, tzinfo=UTC).timestamp())
    o = offset(z, t)
    while t < end:
        t2 = t + 3600
        o2 = offset(z, t2)
        if o2 != o:
            lo, hi = t, t2
            while hi - lo > 1:
                m = (lo + hi) // 2
                if offset(z, m) == o:
                    lo = m
                else:
                    hi = m
            if dt.datetime.fromtimestamp(hi, UTC).year >= y0:
                yield hi
        t, o = t2, o2


def wall_of(local_secs):
    return EPOCH + dt.timedelta(seconds=local_secs)


def fires(cron, walk, start, end):
    out = set()
    secs = sorted(cron.sets["second"])
    max_seen = None
    prev_local = None
    for t, local in walk:
        wall = wall_of(local)
        if cron.follows:
            if cron.minute_ok(wall):
                out.update(t + s for s in secs)
        else:
            if prev_local is not None and local > prev_local + 60:
                # a gap: wall minutes prev_local+60 .. local-60 never show
                skipped = range(prev_local + 60, local, 60)
                if secs and any(cron.minute_ok(wall_of(w)) for w in skipped):
                    out.add(t)
            if (max_seen is None or local > max_seen) and cron.minute_ok(wall):
                out.update(t + s for s in secs)
        max_seen = local if max_seen is None else max(max_seen, local)
        prev_local = local
    return sorted(f for f in out if start < f <= end)


def extra_exprs(tr, z):
    """Jobs aimed at this transition's gap or fold, with day fields naming
    the date of the affected wall times (and the wrong one)."""
    before, after = offset(z, tr - 1), offset(z, tr)
    lo, hi = sorted((tr + before, tr + after))
    mid = wall_of((lo + hi) // 2 // 60 * 60)
    dow = (mid.weekday() + 1) % 7
    m, h = mid.minute, mid.hour
    return [
        "%d %d * * %d" % (m, h, dow),
        "%d %d * * %d" % (m, h, (dow + 1) % 7),
        "%d %d %d * *" % (m, h, mid.day),
        "%d %d %d * *" % (m, h, mid.day % 28 + 1),
        "%d %d * * *" % (m, h),
        "%d,%d %d * * *" % (m, (m + 7) % 60, h),
        "%d * * * *" % m,
        "* %d * * *" % h,
        "17 %d %d * * *" % (m, h),
        "%d */3 * * *" % m,
    ]


def main():
    w = sys.stdout.write
    w("# zone\texpr\tstart\tend\tfires\n")
    count = 0
    for name, y0, y1 in ZONES:
        z = zoneinfo.ZoneInfo(name)
        for tr in transitions(z, y0, y1):
            assert tr % 60 == 0, (name, tr)
            start, end = tr - 30 * 3600, tr + 30 * 3600
            walk = []
            for t in range(start, end + 60, 60):
                o = offset(z, t)
                assert o % 60 == 0 and offset(z, t + 59) == o, (name, t)
                walk.append((t, t + o))
            exprs = FIXED + FOLLOWS + extra_exprs(tr, z)
            for e in dict.fromkeys(exprs):
                f = fires(Cron(e), walk, start, end)
                w("%s\t%s\t%d\t%d\t%s\n" % (name, e, start, end,
                  ",".join(map(str, f)) if f else "-"))
                count += 1
    print("# %d rows" % count, file=sys.stderr)


if __name__ == "__main__":
    main()
