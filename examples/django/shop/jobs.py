"""The shop's scheduled jobs (declared in app.ini).

They run on the scheduler's executor thread of a uWSGI worker, after the
WSGI module has run django.setup(): the ORM, the cache and the settings are
ready, as in a view. Unlike a request thread, that thread is never told a
request finished, so each job closes stale or broken database connections
itself, before and after it runs (what Django does around every request).
"""
import functools
import logging
import os
import time

from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import close_old_connections
from django.utils import timezone

from shop.models import Product

log = logging.getLogger("shop")

FEATURED_KEY = "shop:featured"


def db_job(func):
    @functools.wraps(func)
    def run(*args, **kwargs):
        close_old_connections()
        try:
            return func(*args, **kwargs)
        finally:
            close_old_connections()
    return run


def featured_products():
    return [{"name": p.name, "price": str(p.price)}
            for p in Product.objects.filter(featured=True).order_by("name")]


@db_job
def warm_cache():
    """At each worker's start (@start) and every 5 minutes, in every worker:
    the cache is LocMemCache, one per process, so each worker fills its own."""
    products = featured_products()
    cache.set(FEATURED_KEY, {
        "products": products,
        "warmed_at": timezone.localtime().isoformat(timespec="seconds"),
        "warmed_by_pid": os.getpid(),
    }, timeout=None)
    log.info("cache warmed in worker pid %d: %d featured products", os.getpid(), len(products))


@db_job
def purge_sessions():
    """Daily, in one worker (scope=once): what `manage.py clearsessions`
    does for the database backend, with a count for the log."""
    purged, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    log.info("purged %d expired sessions (worker pid %d)", purged, os.getpid())


@db_job
def low_stock_report(threshold=5):
    """Declared with scheduler-job = {JSON}; kwargs come from the JSON."""
    low = list(Product.objects.filter(stock__lt=threshold).order_by("stock")
               .values_list("name", "stock"))
    log.info("low stock (< %d): %s (worker pid %d)",
             threshold, ", ".join("%s=%d" % row for row in low) or "none", os.getpid())
