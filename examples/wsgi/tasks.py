"""Jobs of the demo: each worker's scheduler thread calls these."""
import os
import threading
import time


def tick(label="tick"):
    print("%s from worker pid %d (thread %s) at %s"
          % (label, os.getpid(), threading.current_thread().name, time.strftime("%H:%M:%S")),
          flush=True)


def report(**fields):
    print("report %s from pid %d" % (sorted(fields.items()), os.getpid()), flush=True)
