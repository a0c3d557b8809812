#!/bin/sh
# Installs what the build, the tests and the demo need from Debian's
# packages: only what is missing, `apt-get update` at most once, sudo only
# when not root. Idempotent. `deps.sh bench` adds what make bench needs
# (wrk for the request load); make test's set is the same either way.
set -eu

PKGS="make gcc pkg-config uwsgi-core uwsgi-src uwsgi-plugin-python3 uwsgi-plugin-psgi
libjansson-dev check libsubunit-dev python3 python3-pytest python3-croniter python3-apscheduler python3-uwsgidecorators
python3-flask python3-django tzdata curl procps valgrind clang libclang-rt-14-dev
libcap-dev uuid-dev libpcre3-dev libssl-dev libxml2-dev libyaml-dev zlib1g-dev libyajl-dev"
if [ "${1:-}" = bench ]; then
	PKGS="$PKGS wrk"
fi

missing=""
for p in $PKGS; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
		"install ok installed") ;;
		*) missing="$missing $p" ;;
	esac
done

if [ -z "$missing" ]; then
	echo "deps: everything is installed"
	exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
	SUDO="sudo"
fi
echo "deps: installing$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
