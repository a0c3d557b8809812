"""make bench: the hello app with our scheduler's jobs (declared in the ini
by bench/lag_bench.py). Each Python job records its fire lag: when its code
starts minus the instant it was scheduled for (the run's context gives it).
/reset and /dump: lat_app.py."""
import time

from lat_app import make_application

lat = {"tick": [], "sec": [], "sig": [], "sig_t": []}


def tick(ctx):
    lat["tick"].append(time.time() - ctx["scheduled_ts"])


def sec(ctx):
    lat["sec"].append(time.time() - ctx["scheduled_ts"])


def rpc_target():
    return b""


def signal_handler(signum):
    # scheduler-cron = * * * * * * signal:18: due at each whole second
    now = time.time()
    lat["sig"].append(now - int(now))
    lat["sig_t"].append(now)


def signal_noop(signum):
    pass


try:
    import uwsgi
    uwsgi.register_rpc("bench_rpc", rpc_target)
    uwsgi.register_signal(17, "worker", signal_noop)
    uwsgi.register_signal(18, "worker", signal_handler)
except ImportError:
    pass


application = make_application(lat)
