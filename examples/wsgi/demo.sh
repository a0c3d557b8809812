#!/bin/sh
# make demo: runs examples/wsgi/app.ini with the freshly built plugin for
# DEMO_SECONDS (default 20; 0 = until Ctrl-C), then stops it with SIGINT.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SECS=${DEMO_SECONDS:-20}
echo "demo: uwsgi --ini examples/wsgi/app.ini  (http://127.0.0.1:9090/)"
if [ "$SECS" = 0 ]; then
	exec uwsgi --ini "$ROOT/examples/wsgi/app.ini"
fi
echo "demo: running for $SECS s; DEMO_SECONDS=0 make demo runs it until Ctrl-C"
timeout -s INT -k 5 "$SECS" uwsgi --ini "$ROOT/examples/wsgi/app.ini" || true
