"""Test settings: the real settings with only what tests need changed."""

from __future__ import annotations

import os
import tempfile

# A data folder of the test run's own, so tests never touch a developer's database or keys.
os.environ.setdefault("PLAYGROUND_DATA_DIR", tempfile.mkdtemp(prefix="playground-test-"))
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")

from playground.settings import *  # noqa: E402, F403
from playground.settings import DATA_DIR, DATABASES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Browser tests run the app in a Daphne child process that must see the same test
# database, so SQLite's test database is a file rather than in memory.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
