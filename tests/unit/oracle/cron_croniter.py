#!/usr/bin/python3
"""Differential oracle: random standard 5-field cron expressions and their
next fire times in UTC according to croniter (python3-croniter), for
test_cron.c to compare with usch_cron_next.

Output (stdout, TSV): expression, base instant, next 5 fires after it
(comma-separated Unix seconds). Fixed seed: the file is reproducible.

Where croniter's day-of-month/day-of-week rule differs from crontab(5)'s
(cron-semantics.md), the case is either expressed with croniter's own
option or excluded, never compared loosely:
- crontab(5) calls a day field unrestricted when its text begins with '*'
  ('*/2' included) and then requires both fields; croniter decides by the
  expanded set instead ('*/2' is restricted to it, so it would OR the two
  fields). For those expressions we ask croniter with day_or=False, its
  documented switch for "both fields must match", which is exactly the
  crontab(5) rule there.
- When both fields are restricted as written but one expands to every day
  ('1-31', '0-6', 'sun-sat', '0-7'), crontab(5) ORs them (so every day
  matches) while croniter collapses that field to '*' and ANDs. croniter
  has no switch for that, so those expressions are excluded and counted
  (summary on stderr).
- croniter 1.3.5 bug: searching from an instant in February, a
  day-of-month list holding a day at least two past February's end (31 in
  a leap year, 30 or 31 otherwise) makes it skip the first days of March
  ("0 0 1,31 * *" from 2024-02-28 gives 03-31, not 03-01). Rows where the
  base or one of the fires it continues from lies in such a February are
  excluded and counted; the C test covers those dates by hand.
Expressions whose date fields can never agree ('0 0 30 2 *') are not
generated: usch_cron_parse rejects them and croniter would search forever.
"""
import os
import sys

# Python puts this script's folder first on sys.path, where sibling oracles
# (calendar.py) would shadow the standard library modules of the same name.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != _here]

import datetime as dt  # noqa: E402
import random  # noqa: E402

from croniter import croniter  # noqa: E402

UTC = dt.timezone.utc
N_EXPR = 3200
N_FIRES = 5
BASES = [
    dt.datetime(2024, 2, 28, 23, 59, 30, tzinfo=UTC),
    dt.datetime(2025, 12, 31, 23, 58, 0, tzinfo=UTC),
    dt.datetime(2026, 6, 15, 12, 34, 56, tzinfo=UTC),
    dt.datetime(2025, 3, 31, 23, 59, 59, tzinfo=UTC),
]
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep",
          "oct", "nov", "dec"]
DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
# name, lo, hi, names (index = value - lo)
FIELDS = [("minute", 0, 59, None), ("hour", 0, 23, None),
          ("dom", 1, 31, None), ("month", 1, 12, MONTHS),
          ("dow", 0, 7, DAYS)]
MDAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def render(rng, v, lo, names):
    if names and v - lo < len(names) and rng.random() < 0.4:
        n = names[v - lo]
        return rng.choice([n, n.upper(), n.capitalize()])
    return str(v)


def element(rng, lo, hi, names):
    k = rng.random()
    span = hi - lo + 1
    if k < 0.30:
        return render(rng, rng.randint(lo, hi), lo, names)
    if k < 0.50:
        a = rng.randint(lo, hi)
        b = rng.randint(a, hi)
        return "%s-%s" % (render(rng, a, lo, names), render(rng, b, lo, names))
    if k < 0.70:
        a = rng.randint(lo, hi)
        b = rng.randint(a, hi)
        return "%s-%s/%d" % (render(rng, a, lo, names),
                             render(rng, b, lo, names),
                             rng.randint(1, max(1, span // 2)))
    if k < 0.85:
        return "%s/%d" % (render(rng, rng.randint(lo, hi), lo, names),
                          rng.randint(1, max(1, span // 2)))
    return "*/%d" % rng.randint(1, max(1, span // 2))


def field(rng, lo, hi, names, star_weight):
    if rng.random() < star_weight:
        return "*"
    n = 1 if rng.random() < 0.7 else rng.randint(2, 3)
    return ",".join(element(rng, lo, hi, names) for _ in range(n))


def expand(text, lo, hi, names):
    """Our own reading of the field, to classify the expression."""
    out = set()
    for part in text.split(","):
        step, stepped = 1, "/" in part
        if stepped:
            part, s = part.split("/")
            step = int(s)
        val = (lambda x: int(x) if x.isdigit()
               else names.index(x.lower()) + lo)
        if part == "*":
            a, b = lo, hi
        elif "-" in part:
            a, b = (val(x) for x in part.split("-"))
        else:
            a = val(part)
            b = hi if stepped else a
        out.update(range(a, b + 1, step))
    if hi == 7 and 7 in out:
        out.discard(7)
        out.add(0)
    return out


def february_bug(dom_set, instants):
    """True when croniter 1.3.5 would search from a February instant with a
    day-of-month value >= February's length + 2 (see the docstring)."""
    if len(dom_set) == 31:
        return False   # a full field is '*' to croniter: no day search
    for t in instants:
        d = dt.datetime.fromtimestamp(t, UTC)
        if d.month == 2:
            feb = 29 if d.year % 4 == 0 and (d.year % 100 or d.year % 400 == 0) else 28
            if max(dom_set) >= feb + 2:
                return True
    return False


def main():
    rng = random.Random(20251125)
    stats = {"compared": 0, "day_or_false": 0, "excluded_full_day_field": 0,
             "skipped_never": 0, "rows": 0, "excluded_february_bug": 0}
    seen = set()
    w = sys.stdout.write
    w("# expr\tbase\tfires\n")
    while stats["compared"] < N_EXPR:
        weights = [0.25, 0.35, 0.55, 0.6, 0.55]
        fs = [field(rng, lo, hi, names, wt)
              for (_, lo, hi, names), wt in zip(FIELDS, weights)]
        expr = " ".join(fs)
        if expr in seen:
            continue
        seen.add(expr)
        sets = [expand(t, lo, hi, n) for t, (_, lo, hi, n) in zip(fs, FIELDS)]
        dom_star, dow_star = fs[2].startswith("*"), fs[4].startswith("*")
        day_and = dom_star or dow_star
        if day_and and not any(d <= MDAYS[m - 1]
                               for m in sets[3] for d in sets[2]):
            stats["skipped_never"] += 1
            continue
        if not day_and and (len(sets[2]) == 31 or len(sets[4]) == 7):
            stats["excluded_full_day_field"] += 1
            continue
        if day_and and len(sets[2]) < 31 and len(sets[4]) < 7:
            stats["day_or_false"] += 1   # croniter's default would OR here
        for base in BASES:
            it = croniter(expr, base, day_or=not day_and)
            fires = [int(it.get_next(float)) for _ in range(N_FIRES)]
            if february_bug(sets[2], [int(base.timestamp())] + fires[:-1]):
                stats["excluded_february_bug"] += 1
                continue
            stats["rows"] += 1
            w("%s\t%d\t%s\n" % (expr, int(base.timestamp()),
                                ",".join(map(str, fires))))
        stats["compared"] += 1
    print("# " + " ".join("%s=%d" % kv for kv in stats.items()),
          file=sys.stderr)


if __name__ == "__main__":
    main()
