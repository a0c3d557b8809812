# uWSGI's out-of-tree plugin descriptor: `uwsgi --build-plugin .` (or a git
# URL) reads it. Every C file is listed (tools/check_layout.py checks it).
NAME = 'scheduler'
CFLAGS = ['-std=gnu11', '-Werror', '-Wall', '-Wextra', '-Wno-unused-parameter']
LDFLAGS = []
LIBS = ['-ljansson', '-lpthread', '-ldl', '-lm']
GCC_LIST = [
    'plugin/scheduler',
    'plugin/core/civil',
    'plugin/core/tz',
    'plugin/core/cron',
]
