"""Joins bench/run.sh's measurements into one table with ratios."""
import math
import statistics
import sys

ours, peers = {}, {}
size = None
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    if f[0] == "#size":
        size = int(f[1])
        continue
    ours[f[0]] = [float(x) for x in f[1:]]
for line in open(sys.argv[2]):
    f = line.rstrip("\n").split("\t")
    peers[f[0]] = [float(x) for x in f[1:]]

print("next-fire cost, median ns per call (ours) and µs per call (peers), same run")
print("%-20s %9s %9s %9s %11s %11s %9s %9s" % ("expression", "ours UTC", "ours Paris", "chained",
      "croniter", "APS3", "x croniter", "x APS3"))
rc, ra = [], []
for expr, (utc, paris, chained) in ours.items():
    ci, ap = peers.get(expr, [math.nan, math.nan])
    xc = ci * 1000 / chained if not math.isnan(ci) else math.nan
    xa = ap * 1000 / chained if not math.isnan(ap) else math.nan
    if not math.isnan(xc):
        rc.append(xc)
    if not math.isnan(xa):
        ra.append(xa)
    print("%-20s %9.0f %9.0f %9.0f %9.1fus %9.1fus %9.0fx %9.0fx" % (expr, utc, paris, chained, ci, ap, xc, xa))
all_ours = [v for row in ours.values() for v in row]
print()
print("median of ours: %.0f ns (target <= 200 ns); worst: %.0f ns" % (statistics.median(all_ours), max(all_ours)))
print("speed-up, median over expressions: %.0fx vs croniter, %.0fx vs APScheduler 3 (target >= 50x)"
      % (statistics.median(rc), statistics.median(ra)))
print("memory per compiled expression: %d bytes (target <= 128)" % size)
