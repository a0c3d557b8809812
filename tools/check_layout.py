#!/usr/bin/python3
"""Checks the layout rules the build relies on:
- the two layers: nothing in plugin/core includes uwsgi.h;
- the adapter's includes run one way: with each header standing for the
  .c file of the same name, the include graph of plugin/ has no loop;
- one concern per file: no file under plugin/ or cli/ is longer than 700 lines;
- uwsgiplugin.py lists every C source of the plugin (it is an explicit
  list because uWSGI's builder gives the descriptor no path to glob from)."""
import os, re, sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_LINES = 700
errors = []
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)


def sources(sub):
    d = os.path.join(root, sub)
    return sorted(n for n in os.listdir(d) if n.endswith(('.c', '.h')))


core = os.path.join(root, 'plugin', 'core')
for name in sources('plugin/core'):
    text = open(os.path.join(core, name)).read()
    if re.search(r'#\s*include\s*[<"]uwsgi\.h[>"]', text):
        errors.append('plugin/core/%s includes uwsgi.h: the core must not know uWSGI' % name)

for sub in ('plugin', 'plugin/core', 'cli'):
    for name in sources(sub):
        n = open(os.path.join(root, sub, name)).read().count('\n')
        if n > MAX_LINES:
            errors.append('%s/%s has %d lines (at most %d: split it by concern)' % (sub, name, n, MAX_LINES))

# the adapter's rooms: x.c and x.h are one room; an include is an arrow
rooms = {}
for name in sources('plugin'):
    stem = name[:-2]
    text = open(os.path.join(root, 'plugin', name)).read()
    deps = {os.path.splitext(inc)[0] for inc in INCLUDE.findall(text) if '/' not in inc}
    rooms.setdefault(stem, set()).update(d for d in deps if d != stem)


def find_loop():
    state = {}

    def visit(room, path):
        state[room] = 'open'
        for nxt in sorted(rooms.get(room, ())):
            if state.get(nxt) == 'open':
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                loop = visit(nxt, path + [nxt])
                if loop:
                    return loop
        state[room] = 'done'
        return None

    for room in sorted(rooms):
        if room not in state:
            loop = visit(room, [room])
            if loop:
                return loop
    return None


loop = find_loop()
if loop:
    errors.append('plugin/: includes form a loop: %s' % ' -> '.join(loop))

desc = {}
exec(open(os.path.join(root, 'uwsgiplugin.py')).read(), desc)
listed = set(desc['GCC_LIST'])
present = set()
for sub in ('plugin', 'plugin/core'):
    for name in os.listdir(os.path.join(root, sub)):
        if name.endswith('.c'):
            present.add('%s/%s' % (sub, name[:-2]))
for missing in sorted(present - listed):
    errors.append('uwsgiplugin.py: GCC_LIST lacks %s' % missing)
for extra in sorted(listed - present):
    errors.append('uwsgiplugin.py: GCC_LIST names %s.c, which does not exist' % extra)
for e in errors:
    print(e, file=sys.stderr)
sys.exit(1 if errors else 0)
