#!/usr/bin/python3
"""Oracle for tests/unit/test_tz.c: what Python's zoneinfo (an independent
TZif + POSIX-rule reader) says about a set of zones between 1990 and 2045.

Output, one record per line, tab-separated (times are Unix seconds, "local"
is the wall clock read as if it were UTC, offsets are seconds east):
  T zone instant off_before off_after   every offset change, in order
  R zone from to                        the range the T list is complete for
  O zone instant offset                 offset in force at an instant
  L zone local count out0 out1          wall time -> instants; count 0 is a
                                        gap (out0 = the transition instant),
                                        2 a fold (out0 < out1)
  N zone instant next                   first transition strictly after
"""
import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

ZONES = [
    'Europe/Paris', 'America/New_York', 'Australia/Sydney',
    'Australia/Lord_Howe', 'America/Santiago', 'America/Sao_Paulo',
    'Asia/Kolkata', 'Pacific/Chatham', 'Europe/Dublin', 'America/Havana',
    'Asia/Tehran', 'UTC', 'Asia/Beirut', 'Africa/Casablanca',
    'Antarctica/Troll', 'Pacific/Apia', 'Pacific/Kiritimati',
    'Europe/Moscow', 'America/St_Johns', 'America/Nuuk', 'Asia/Jerusalem',
]
START = int(datetime(1990, 1, 1, tzinfo=timezone.utc).timestamp())
END = int(datetime(2046, 1, 1, tzinfo=timezone.utc).timestamp())
STEP = 6 * 3600
EPOCH = datetime(1970, 1, 1)


def offset(tz, t):
    return int(datetime.fromtimestamp(t, tz).utcoffset().total_seconds())


def first_change(tz, lo, hi):
    """Smallest t in (lo, hi] with offset(t) != offset(lo)."""
    o = offset(tz, lo)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if offset(tz, mid) == o:
            lo = mid
        else:
            hi = mid
    return hi


def transitions(tz):
    out = []
    t, o = START, offset(tz, START)
    while t < END:
        nt = min(t + STEP, END)
        no = offset(tz, nt)
        if no != o:
            c = first_change(tz, t, nt)
            out.append((c, o, offset(tz, c)))
            # a second change inside the step would hide; restart after c
            t, o = c, offset(tz, c)
            continue
        t, o = nt, no
    return out


def resolve(tz, local):
    naive = EPOCH + timedelta(seconds=local)
    a = int(naive.replace(tzinfo=tz, fold=0).timestamp())
    b = int(naive.replace(tzinfo=tz, fold=1).timestamp())
    if a == b:
        return 1, a, a
    if a < b:
        return 2, a, b
    # PEP 495 gap: fold=1 maps before the transition, fold=0 after it
    return 0, first_change(tz, b, a), first_change(tz, b, a)


def main():
    rnd = random.Random(8536)
    for name in ZONES:
        tz = ZoneInfo(name)
        trans = transitions(tz)
        print('R\t%s\t%d\t%d' % (name, START, END))
        for c, ob, oa in trans:
            print('T\t%s\t%d\t%d\t%d' % (name, c, ob, oa))
        instants = [rnd.randrange(START, END) for _ in range(300)]
        for c, ob, oa in trans:
            instants += [c - 1, c, c + 1]
        for t in instants:
            print('O\t%s\t%d\t%d' % (name, t, offset(tz, t)))
            nxt = [c for c, _, _ in trans if c > t]
            if nxt:
                print('N\t%s\t%d\t%d' % (name, t, nxt[0]))
        locals_ = [t + offset(tz, t) for t in
                   (rnd.randrange(START, END) for _ in range(300))]
        for c, ob, oa in trans:
            lo, hi = sorted((c + ob, c + oa))
            # both edges of every gap or fold, a point inside, and outside
            locals_ += [lo - 1, lo, (lo + hi) // 2, hi - 1, hi]
        for local in locals_:
            n, a, b = resolve(tz, local)
            print('L\t%s\t%d\t%d\t%d\t%d' % (name, local, n, a, b))


main()
