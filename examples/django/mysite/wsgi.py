"""WSGI entry point (app.ini: module = mysite.wsgi:application).

Besides the usual get_wsgi_application() (which runs django.setup()), it
applies the migrations, so the example runs without any manage.py step.
uWSGI imports this module once, in the master, before forking the workers
(no lazy-apps): the migrations run once, and the connection they opened is
closed so that no worker inherits a sqlite handle across fork."""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")

from django.core.management import call_command  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connections  # noqa: E402

application = get_wsgi_application()

call_command("migrate", interactive=False, verbosity=0)
connections.close_all()
