"""Encryption at rest for API keys and secret headers (Fernet, with rotation).

The key set comes from PLAYGROUND_ENCRYPTION_KEYS (comma separated, newest first) or, when
that is not set, from a file in the data folder created on first use with mode 0600.
Plain text is decrypted only at the moment of an upstream call.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from playground.env import local_secret

KEYS_FILE = "encryption_keys"


class DecryptionFailed(Exception):
    """The stored secret cannot be read with the configured keys (a key was removed?)."""


WHAT_TO_DO = (
    "Restore the key file from a backup (or set PLAYGROUND_ENCRYPTION_KEYS to the keys it held) and "
    "restart; if the keys are lost for good, revoke the stored API keys and add them again."
)


def _stored_secrets() -> int:
    """How many API keys and secret headers are stored encrypted."""
    from playground.providers.models import ApiKey, ProviderHeader

    return ApiKey.objects.count() + ProviderHeader.objects.filter(secret=True).count()


def keys_file() -> Path:
    return Path(settings.DATA_DIR) / KEYS_FILE


# The key file's keys by its path, with the file's (inode, mtime, size) when they were read.
_read_keys: dict[Path, tuple[tuple[int, int, int], list[str]]] = {}


def configured_keys() -> list[str]:
    from_env = os.environ.get("PLAYGROUND_ENCRYPTION_KEYS", "").strip()
    if from_env:
        return [key.strip() for key in from_env.split(",") if key.strip()]
    return _keys_in_file(keys_file())


def _keys_in_file(path: Path) -> list[str]:
    """The file's keys, read again only when the file changed: every decryption asks, and
    a stat costs less than the mkdir, open and read it replaces. (Rotation replaces the
    file, so a new inode or mtime tells that it changed.)"""
    try:
        stat = path.stat()
        version = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    except FileNotFoundError:
        version = None
    seen = _read_keys.get(path)
    if seen is not None and seen[0] == version:
        return seen[1]
    if version is None and (stored := _stored_secrets()):
        # A new key would read none of them, and later ones would be encrypted apart.
        raise DecryptionFailed(
            f"The encryption key file {path} is missing, so the {stored} stored API keys and secret "
            f"headers cannot be read. {WHAT_TO_DO}"
        )
    text = local_secret(path.parent, path.name, make=lambda: Fernet.generate_key().decode())
    keys = [key.strip() for key in text.replace("\n", ",").split(",") if key.strip()]
    if version is not None:  # stat'ed before reading: a change after it is seen next time
        _read_keys[path] = (version, keys)
    return keys


@functools.cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(configured_keys()))


def encrypt(plain: str) -> bytes:
    return fernet().encrypt(plain.encode())


def decrypt(token: bytes) -> str:
    try:
        return fernet().decrypt(bytes(token)).decode()
    except InvalidToken:
        raise DecryptionFailed(
            f"A stored API key could not be decrypted: the encryption keys are not the ones it was saved with. "
            f"{WHAT_TO_DO}"
        ) from None


def keys_problem() -> str | None:
    """Why the stored secrets cannot be read with the configured keys (None if they can,
    or if there are none): checked before the server starts."""
    from playground.providers.models import ApiKey, ProviderHeader

    try:
        key = ApiKey.objects.order_by("-pk").first()
        header = ProviderHeader.objects.filter(secret=True).exclude(ciphertext=None).order_by("-pk").first()
        for secret in (key, header):
            if secret is not None:
                decrypt(secret.ciphertext)
    except DecryptionFailed as error:
        return str(error)
    return None


def rotate(token: bytes) -> bytes:
    """Re-encrypt with the newest key (the first one)."""
    try:
        return fernet().rotate(bytes(token))
    except InvalidToken:
        raise DecryptionFailed("A stored secret could not be decrypted for rotation.") from None


def add_key_to_file() -> None:
    """Put a new key first in the data folder's key file, keeping the old ones for reading."""
    old = configured_keys()
    path = keys_file()
    temporary = path.with_suffix(".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(",".join([Fernet.generate_key().decode(), *old]) + "\n")
    temporary.replace(path)


def drop_old_keys_from_file() -> None:
    keys = configured_keys()
    path = keys_file()
    temporary = path.with_suffix(".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(keys[0] + "\n")
    temporary.replace(path)
