"""Which local services (PostgreSQL, Redis, Chromium) the tests can use.

Outside CI a missing service skips the tests that need it, with a message on how to enable
them; in CI (CI=true) nothing may be skipped, so a missing service fails those tests.
"""

from __future__ import annotations

import os
import shutil
import socket

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

HOW_TO = {
    "chromium": "install Debian's Chromium (apt-get install chromium) or set CHROMIUM to its path",
    "postgres": "start PostgreSQL on 127.0.0.1:5432 with a database 'test' or set TEST_POSTGRES_URL",
    "redis": "start Redis on 127.0.0.1:6379 or set TEST_REDIS_URL",
}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def available(service: str) -> bool:
    if service == "chromium":
        return bool(shutil.which(CHROMIUM))
    if service == "postgres":
        return answers("127.0.0.1", 5432)
    if service == "redis":
        return answers("127.0.0.1", 6379)
    raise ValueError(service)


def require(service: str) -> None:
    """Skip (or, in CI, fail) the calling test when `service` is not there."""
    if available(service):
        return
    message = f"{service} is not available: {HOW_TO[service]}"
    if in_ci():
        pytest.fail(f"{message} (CI must run every test)")
    pytest.skip(message)
