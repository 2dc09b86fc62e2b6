from __future__ import annotations

from django.db import migrations

# What demo_provider_create stored while the demo upstream answered any bearer token.
OLD_DEMO_KEY = "demo-key-any-value-works"


def mint_demo_keys(apps, schema_editor):
    """Replace the old any-value demo key with one minted by this installation, which the demo now asks for.

    Historical models have no set_secret, so this does what it does with the same helpers, imported
    now: the real encryption (the installation's keys) and the real key minting (its SECRET_KEY).
    """
    from playground.demo.keys import demo_key
    from playground.providers import crypto

    ApiKey = apps.get_model("providers", "ApiKey")
    # last4 narrows the rows to decrypt to those that may hold the old key.
    for key in ApiKey.objects.filter(last4=OLD_DEMO_KEY[-4:]).only("pk", "ciphertext"):
        try:
            plain = crypto.decrypt(key.ciphertext)
        except crypto.DecryptionFailed:
            continue  # unreadable with the configured keys: not ours to judge, and unusable anyway
        if plain != OLD_DEMO_KEY:
            continue
        new_key = demo_key()
        ApiKey.objects.filter(pk=key.pk).update(ciphertext=crypto.encrypt(new_key), last4=new_key[-4:])


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0002_local_url_approved"),
    ]

    operations = [
        # Going back leaves the minted key in place: the older code's demo accepted any key, this one too.
        migrations.RunPython(mint_demo_keys, migrations.RunPython.noop),
    ]
