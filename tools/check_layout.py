#!/usr/bin/python3
"""Checks the two-layer rule: nothing in plugin/core includes uwsgi.h, and
uwsgiplugin.py lists every C source of the plugin (it is an explicit list
because uWSGI's builder gives the descriptor no path to glob from)."""
import os, re, sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
errors = []
core = os.path.join(root, 'plugin', 'core')
for name in sorted(os.listdir(core)):
    if name.endswith(('.c', '.h')):
        text = open(os.path.join(core, name)).read()
        if re.search(r'#\s*include\s*[<"]uwsgi\.h[>"]', text):
            errors.append('plugin/core/%s includes uwsgi.h: the core must not know uWSGI' % name)

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
