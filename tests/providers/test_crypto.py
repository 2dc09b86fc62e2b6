"""API keys at rest: encrypted, different from the key, rotatable, with a private key file."""

from __future__ import annotations

import os
import stat
from io import StringIO

from cryptography.fernet import Fernet
from django.core.management import call_command

from playground.providers import crypto
from playground.providers.models import ApiKey, ProviderHeader
from tests.factories import ProviderFactory

PLAIN = "sk-proj-RoundTrip-0123456789abcdefXYZ"


def test_round_trip_and_ciphertext_reveals_nothing():
    first, second = crypto.encrypt(PLAIN), crypto.encrypt(PLAIN)
    assert crypto.decrypt(first) == PLAIN
    assert first != second  # a fresh nonce each time
    assert PLAIN.encode() not in first
    assert PLAIN[-8:].encode() not in first


def test_generated_key_file_is_private(settings):
    crypto.configured_keys()
    path = crypto.keys_file()
    assert path.parent == settings.DATA_DIR
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_stored_key_is_encrypted_in_the_database(db):
    provider = ProviderFactory()
    key = ApiKey(provider=provider)
    key.set_secret(PLAIN)
    key.save()
    raw = ApiKey.objects.values_list("ciphertext", flat=True).get(pk=key.pk)
    assert PLAIN.encode() not in bytes(raw)
    assert key.masked == "••••" + PLAIN[-4:]
    assert ApiKey.objects.get(pk=key.pk).secret() == PLAIN


def test_rotation_with_keys_from_the_environment(db, monkeypatch):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("PLAYGROUND_ENCRYPTION_KEYS", old)
    provider = ProviderFactory()
    key = ApiKey(provider=provider)
    key.set_secret(PLAIN)
    key.save()
    header = ProviderHeader(provider=provider, name="X-PROJECT-ID", secret=True)
    header.set_value("proj-secret-42")
    header.save()

    monkeypatch.setenv("PLAYGROUND_ENCRYPTION_KEYS", f"{new},{old}")
    out = StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "Re-encrypted 2 secrets" in out.getvalue()

    monkeypatch.setenv("PLAYGROUND_ENCRYPTION_KEYS", new)  # the old key is gone now
    assert ApiKey.objects.get(pk=key.pk).secret() == PLAIN
    assert ProviderHeader.objects.get(pk=header.pk).plain_value() == "proj-secret-42"


def test_rotation_with_the_key_file(db):
    provider = ProviderFactory()
    key = ApiKey(provider=provider)
    key.set_secret(PLAIN)
    key.save()
    before = crypto.configured_keys()
    call_command("rotate_encryption_keys", "--drop-old", stdout=StringIO())
    after = crypto.configured_keys()
    assert len(after) == 1 and after[0] not in before
    assert ApiKey.objects.get(pk=key.pk).secret() == PLAIN
    assert stat.S_IMODE(os.stat(crypto.keys_file()).st_mode) == 0o600


def test_a_running_process_reads_keys_another_process_added_to_the_file():
    """Keys are read from the file once, not on every decryption; a rotation run by another
    process (which replaces the file) is still seen at the next decryption."""
    old = crypto.configured_keys()
    new = Fernet.generate_key().decode()
    token = Fernet(new.encode()).encrypt(PLAIN.encode())  # written by a process with the new key
    path = crypto.keys_file()
    replacement = path.with_suffix(".other")
    replacement.write_text(",".join([new, *old]) + "\n")
    replacement.replace(path)  # as rotate_encryption_keys does, from another process
    assert crypto.configured_keys() == [new, *old]
    assert crypto.decrypt(token) == PLAIN


def stored_key(plain: str = PLAIN) -> ApiKey:
    key = ApiKey(provider=ProviderFactory(), owner=None)
    key.set_secret(plain)
    key.save()
    return key


def test_a_missing_key_file_is_never_replaced_while_keys_are_stored(db, settings, tmp_path):
    from django.core.management import CommandError

    settings.DATA_DIR = tmp_path
    stored_key()
    crypto.keys_file().unlink()  # lost with a volume, or a new data folder

    refused = "is missing, so the 1 stored API keys and secret headers cannot be read"
    for use in (lambda: crypto.encrypt("another key"), lambda: ApiKey.objects.get().secret()):
        try:
            use()
        except crypto.DecryptionFailed as error:
            assert refused in str(error) and "Restore the key file" in str(error)
        else:
            raise AssertionError("a missing key file was replaced by a new one")
    assert not crypto.keys_file().exists()
    # The server does not start on it: `make run` stops at bootstrap, deployments at migrate.
    try:
        call_command("bootstrap", stdout=StringIO())
    except CommandError as error:
        assert str(error).startswith("Playground will not start: ") and refused in str(error)
    else:
        raise AssertionError("bootstrap went on")
    from django.core.management.base import SystemCheckError

    try:
        call_command("check", "--database", "default", stdout=StringIO(), stderr=StringIO())
    except SystemCheckError as error:
        assert "playground.E001" in str(error) and refused in str(error)
    else:
        raise AssertionError("the check passed")


def test_with_other_keys_testing_a_key_says_what_to_do(client, team_with_roles, demo_provider, monkeypatch):
    from django.urls import reverse

    monkeypatch.setenv("PLAYGROUND_ENCRYPTION_KEYS", Fernet.generate_key().decode())  # not the key it was saved with
    client.force_login(team_with_roles.users["admin"])
    key = demo_provider.api_keys.get()
    page = client.post(reverse("key_test", args=[key.pk]), follow=True).content.decode()
    assert "could not be decrypted: the encryption keys are not the ones it was saved with" in page
    assert "Restore the key file" in page
