"""A few products, so the page and the jobs have something to show."""
from decimal import Decimal

from django.db import migrations

PRODUCTS = [
    ("Espresso cup", "6.50", 40, True),
    ("French press", "29.00", 3, True),
    ("Grinder", "89.00", 12, True),
    ("Kettle", "45.00", 2, False),
    ("Paper filters", "3.20", 150, False),
]


def seed(apps, schema_editor):
    Product = apps.get_model("shop", "Product")
    for name, price, stock, featured in PRODUCTS:
        Product.objects.create(name=name, price=Decimal(price), stock=stock, featured=featured)


def unseed(apps, schema_editor):
    apps.get_model("shop", "Product").objects.filter(name__in=[p[0] for p in PRODUCTS]).delete()


class Migration(migrations.Migration):

    dependencies = [("shop", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
