#!/usr/bin/python3
"""Oracle for calendar-interval triggers (tests/unit/test_trigger.c).

Writes TSV rows `name tz unit n anchor_us after_us expected_us` to stdout,
expected being the first fire strictly after after_us ("never" if none).

The rules, computed here by brute force with zoneinfo (independent of the C
code's arithmetic): fire 0 is the anchor instant; fire k is the anchor's
local date plus k*n units, its day clamped to the month's length (always
from the anchor's day: Jan 31 -> Feb 29 -> Mar 31), at the anchor's local
time of day. A wall time in a DST gap fires at the transition instant (the
first instant after the gap); a repeated wall time at its first occurrence.
"""
import bisect
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
US = timedelta(microseconds=1)


def month_len(y, m):
    # Not calendar.monthrange: this file's own name shadows that module.
    nxt = datetime(y + m // 12, m % 12 + 1, 1)
    return (nxt - datetime(y, m, 1)).days


def to_us(aware):
    return (aware - EPOCH) // US


def local_of(secs, tz):
    return datetime.fromtimestamp(secs, tz).replace(tzinfo=None)


def resolve(wall, tz):
    """Instant (µs) showing wall time `wall` in tz, by the trigger's rules."""
    hits = []
    for fold in (0, 1):
        u = wall.replace(tzinfo=tz, fold=fold).astimezone(timezone.utc)
        if u.astimezone(tz).replace(tzinfo=None) == wall:
            hits.append(to_us(u))
    if hits:
        return min(hits)
    # In a gap fold=1 maps before the transition and fold=0 after it; the
    # transition is the first whole second whose local time is past wall.
    lo = to_us(wall.replace(tzinfo=tz, fold=1)) // 1000000
    hi = to_us(wall.replace(tzinfo=tz, fold=0)) // 1000000 + 1
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        if local_of(mid, tz) > wall:
            hi = mid
        else:
            lo = mid
    return hi * 1000000


def fire(anchor_us, anchor_wall, unit, n, k, tz):
    if k == 0:
        return anchor_us
    if unit in ('days', 'weeks'):
        date = anchor_wall.date() + timedelta(days=k * n * (7 if unit == 'weeks' else 1))
    else:
        months = k * n * (12 if unit == 'years' else 1)
        y, m = divmod(anchor_wall.year * 12 + anchor_wall.month - 1 + months, 12)
        m += 1
        date = anchor_wall.date().replace(year=y, month=m,
                day=min(anchor_wall.day, month_len(y, m)))
    return resolve(datetime.combine(date, anchor_wall.time()), tz)


# name, zone, unit, n, anchor wall time, fold of the anchor, fires to probe,
# extra "after" wall times far away (local, fold 0)
CASES = [
    ('paris-month-31', 'Europe/Paris', 'months', 1, '2023-01-31 09:00:00', 0, 40,
        ['2030-05-17 00:00:00', '2095-02-28 10:00:00']),
    ('paris-month-31-gap', 'Europe/Paris', 'months', 1, '2024-01-31 02:30:00', 0, 30,
        ['2062-03-31 02:00:00']),
    ('paris-day-0230', 'Europe/Paris', 'days', 1, '2024-03-25 02:30:00', 0, 400,
        ['2031-03-30 02:10:00', '2090-10-29 02:45:00']),
    ('paris-day-gap-frac', 'Europe/Paris', 'days', 1, '2024-03-28 02:30:00.250000', 0, 8, []),
    ('paris-month-anchor-fold1', 'Europe/Paris', 'months', 1, '2024-10-27 02:30:00', 1, 14, []),
    ('paris-quarter-frac', 'Europe/Paris', 'months', 3, '2024-11-30 23:59:59.500000', 0, 12,
        ['2040-08-31 00:00:00']),
    ('ny-day-0230-gap', 'America/New_York', 'days', 1, '2024-03-01 02:30:00', 0, 30, []),
    ('ny-day-0130-fold', 'America/New_York', 'days', 1, '2024-10-30 01:30:00', 0, 10,
        ['2035-11-04 01:15:00']),
    ('ny-2weeks-gap', 'America/New_York', 'weeks', 2, '2024-02-25 02:15:00', 0, 60,
        ['2077-03-14 02:00:00']),
    ('ny-month-31', 'America/New_York', 'months', 1, '2023-10-31 02:30:00', 0, 30, []),
    ('utc-year-feb29', 'UTC', 'years', 1, '2024-02-29 12:00:00', 0, 12, ['2100-03-01 00:00:00']),
    ('paris-4years-feb29', 'Europe/Paris', 'years', 4, '2020-02-29 00:00:00', 0, 8, []),
    ('utc-day-pre-epoch', 'UTC', 'days', 1, '1969-12-30 23:00:00', 0, 5, []),
    ('utc-7days-pre-epoch', 'UTC', 'days', 7, '1969-06-01 12:34:56.000001', 0, 10, []),
    ('lord-howe-day-0215', 'Australia/Lord_Howe', 'days', 1, '2024-09-25 02:15:00', 0, 200, []),
    ('apia-day-skipped', 'Pacific/Apia', 'days', 1, '2011-12-27 10:00:00', 0, 6, []),
]


def main():
    out = sys.stdout
    out.write('# name\ttz\tunit\tn\tanchor_us\tafter_us\texpected_us\n')
    for name, zone, unit, n, anchor, fold, nfires, far in CASES:
        tz = ZoneInfo(zone)
        wall = datetime.fromisoformat(anchor)
        anchor_us = to_us(wall.replace(tzinfo=tz, fold=fold))
        far_us = [to_us(datetime.fromisoformat(f).replace(tzinfo=tz)) for f in far]
        horizon = max(far_us, default=anchor_us)
        fires = []
        k = 0
        while k <= nfires or fires[-1] <= horizon:
            fires.append(fire(anchor_us, wall, unit, n, k, tz))
            k += 1
        ordered = sorted(fires)
        afters = {anchor_us - 10**9, anchor_us - 1, anchor_us}
        for f in fires[:nfires]:
            afters.update((f - 1, f, f + 1))
        afters.update(far_us)
        for after in sorted(afters):
            i = bisect.bisect_right(ordered, after)
            expected = ordered[i] if i < len(ordered) else 'never'
            # Past the probed fires the list is incomplete: only far_us
            # queries go there, and the list runs past them.
            out.write('%s\t%s\t%s\t%d\t%d\t%d\t%s\n' % (
                name, zone, unit, n, anchor_us, after, expected))


if __name__ == '__main__':
    main()
