#!/bin/sh
# make bench: next-fire cost of our cron engine against croniter and
# APScheduler 3's CronTrigger, measured in the same run on the same
# expressions, and declaration parsing at scale against uWSGI's own option
# reading; ratios are what count (the machine is noisy). Then what users
# feel (bench/lag_bench.py): fire lag and request throughput under wrk,
# ours against APScheduler 3 in alternating rounds, rpc:/signal: lag
# against uWSGI's own timer; and 100,000 jobs in one worker
# (bench/scale_bench.py). BENCH_QUICK=1 shortens the whole run (fewer
# rounds, shorter windows: a smoke, not figures); bench/README.md says
# what each figure is and keeps the last table.
set -eu
cd "$(dirname "$0")/.."
PY=${PYTHON:-/usr/bin/python3}
CC=${CC:-cc}
N=${BENCH_N:-20000}
mkdir -p build/bench
if [ "${BENCH_QUICK:-}" = 1 ]; then
	export BENCH_ROUNDS=${BENCH_ROUNDS:-1} BENCH_SECONDS=${BENCH_SECONDS:-3} BENCH_IDLE_SECONDS=${BENCH_IDLE_SECONDS:-3}
	export BENCH_SCALE_RUNS=${BENCH_SCALE_RUNS:-1} BENCH_SCALE_SECONDS=${BENCH_SCALE_SECONDS:-3}
	export BENCH_DECL_RUNS=${BENCH_DECL_RUNS:-1}
fi
$CC -std=gnu11 -O2 -Iplugin/core -o build/bench/cron_bench bench/cron_bench.c plugin/core/*.c -ljansson -lm
$CC -std=gnu11 -O2 -Wall -Wextra -Werror -o build/bench/wake_floor bench/wake_floor.c

set -- "*/5 * * * *" "0 * * * *" "30 2 * * *" "0 9 * * mon-fri" "*/15 9-17 * * 1-5" \
	"0 0 1 * *" "15 3 1,15 * *" "0 9-17 * * 1-5" "0 0 L * *" "0 12 * * fri#2"
build/bench/cron_bench "$@" > build/bench/ours.tsv
$PY bench/cron_peers.py "$N" "$@" > build/bench/peers.tsv
$PY bench/report.py build/bench/ours.tsv build/bench/peers.tsv

echo
make -s scheduler_plugin.so
$PY bench/decl_bench.py scheduler_plugin.so

echo
$PY bench/lag_bench.py
echo
$PY bench/scale_bench.py
