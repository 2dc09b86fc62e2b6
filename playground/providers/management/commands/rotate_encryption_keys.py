"""Re-encrypt every stored secret with the newest encryption key.

With PLAYGROUND_ENCRYPTION_KEYS set, put the new key first in that list (keep the old ones
after it), run this, then remove the old keys. Without it, this command adds a new key to
the data folder's key file itself, re-encrypts, and with --drop-old removes the old keys.
"""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand
from django.db import transaction

from playground.providers import crypto
from playground.providers.models import ApiKey, ProviderHeader


class Command(BaseCommand):
    help = "Re-encrypt all API keys and secret headers with the newest encryption key."

    def add_arguments(self, parser):
        parser.add_argument("--drop-old", action="store_true", help="Afterwards keep only the newest key in the file.")

    def handle(self, *args, drop_old: bool, **options):
        from_env = bool(os.environ.get("PLAYGROUND_ENCRYPTION_KEYS", "").strip())
        if not from_env:
            crypto.add_key_to_file()
        count = 0
        with transaction.atomic():
            for key in ApiKey.objects.select_for_update().only("pk", "ciphertext"):
                key.ciphertext = crypto.rotate(key.ciphertext)
                key.save(update_fields=["ciphertext"])
                count += 1
            for header in ProviderHeader.objects.select_for_update().filter(secret=True).exclude(ciphertext=None):
                header.ciphertext = crypto.rotate(header.ciphertext)
                header.save(update_fields=["ciphertext"])
                count += 1
        if drop_old and not from_env:
            crypto.drop_old_keys_from_file()
        where = "PLAYGROUND_ENCRYPTION_KEYS" if from_env else str(crypto.keys_file())
        self.stdout.write(f"Re-encrypted {count} secret{'s' if count != 1 else ''} with the newest key from {where}.")
        if from_env:
            self.stdout.write("You can now remove the old keys from PLAYGROUND_ENCRYPTION_KEYS.")
