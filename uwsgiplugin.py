# uWSGI's out-of-tree plugin descriptor: `uwsgi --build-plugin .` (or a git
# URL) reads it. Every C file is listed (tools/check_layout.py checks it):
# the builder gives this file no path to glob from.
import os

NAME = 'scheduler'
CFLAGS = ['-std=gnu11', '-Werror', '-Wall', '-Wextra', '-Wno-unused-parameter']
LDFLAGS = []
# `make` builds a second copy with ASan+UBSan for test_sanitized.py
if os.environ.get('SCHEDULER_SANITIZE'):
    CFLAGS += ['-fsanitize=address,undefined', '-fno-omit-frame-pointer', '-g']
    LDFLAGS += ['-fsanitize=address,undefined']
LIBS = ['-ljansson', '-lpthread', '-ldl', '-lm']
GCC_LIST = [
    # the uWSGI adapter
    'plugin/plugin',
    'plugin/config',
    'plugin/jobs_file',
    'plugin/runtime',
    'plugin/timing',
    'plugin/handover',
    'plugin/executors',
    'plugin/punctual',
    'plugin/attempts',
    'plugin/overlap',
    'plugin/timeouts',
    'plugin/queue',
    'plugin/notes',
    'plugin/run',
    'plugin/threads',
    'plugin/claims',
    'plugin/legion',
    'plugin/commands',
    'plugin/state',
    'plugin/runs',
    'plugin/wake',
    'plugin/counters',
    'plugin/metrics',
    'plugin/control',
    'plugin/flags',
    'plugin/history',
    'plugin/seqlock',
    'plugin/dispatch',
    'plugin/mainthread',
    'plugin/python',
    'plugin/context',
    'plugin/pyhelper',
    'plugin/log',
    'plugin/common',
    # the pure core
    'plugin/core/err',
    'plugin/core/arena',
    'plugin/core/civil',
    'plugin/core/tz',
    'plugin/core/tz_posix',
    'plugin/core/timefmt',
    'plugin/core/cron_parse',
    'plugin/core/cron',
    'plugin/core/trigger',
    'plugin/core/timerq',
    'plugin/core/sched',
    'plugin/core/workers',
    'plugin/core/idset',
    'plugin/core/job',
    'plugin/core/decl',
    'plugin/core/decl_line',
    'plugin/core/decl_target',
    'plugin/core/decl_ctx',
    'plugin/core/decl_keys',
    'plugin/core/decl_json',
    'plugin/core/decl_trigger',
    'plugin/core/decl_file',
    'plugin/core/listing',
]
