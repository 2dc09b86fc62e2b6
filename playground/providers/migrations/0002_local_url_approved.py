from __future__ import annotations

from django.db import migrations, models
from django.db.models import F


def approve_present_addresses(apps, schema_editor):
    """Providers staff allowed before this migration keep the permission for their present address."""
    Provider = apps.get_model("providers", "Provider")
    Provider.objects.filter(allow_local=True).update(local_url=F("base_url"))


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="provider",
            name="local_url",
            field=models.URLField(blank=True, max_length=500),
        ),
        migrations.RunPython(approve_present_addresses, migrations.RunPython.noop),
    ]
