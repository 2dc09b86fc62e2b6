from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0003_demo_key_minted"),
    ]

    operations = [
        migrations.AddField(
            model_name="providerheader",
            name="last4",
            field=models.CharField(blank=True, editable=False, max_length=4),
        ),
    ]
