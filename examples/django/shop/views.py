import os

from django.core.cache import cache
from django.http import JsonResponse

from shop.jobs import FEATURED_KEY, featured_products


def index(request):
    # a visitor's session: five minutes of life, then purge_sessions deletes it
    request.session["views"] = request.session.get("views", 0) + 1
    request.session.set_expiry(300)

    cached = cache.get(FEATURED_KEY)
    if cached is None:  # not warmed yet in this worker: ask the database
        cached = {"products": featured_products(), "warmed_at": None, "warmed_by_pid": None}
        source = "database"
    else:
        source = "cache"
    return JsonResponse({"worker_pid": os.getpid(), "source": source, **cached})
