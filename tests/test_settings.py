"""Secrets generated on first run are private to the owner and stable afterwards."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from playground.env import local_secret

ROOT = Path(__file__).resolve().parent.parent


def secret_key_in_a_fresh_process(**env: str) -> str:
    """SECRET_KEY as the real settings compute it in a new process with `env`."""
    base = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "SECRET_KEY_FILE")}
    code = (
        "import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'playground.settings'; "
        "from django.conf import settings; print(settings.SECRET_KEY)"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], env={**base, **env}, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return run.stdout.strip()


def test_local_secret_is_created_once_with_mode_0600(tmp_path):
    first = local_secret(tmp_path / "data", "secret_key")
    assert stat.S_IMODE(os.stat(tmp_path / "data" / "secret_key").st_mode) == 0o600
    assert local_secret(tmp_path / "data", "secret_key") == first
    assert len(first) >= 50


def test_settings_generate_a_secret_key_into_the_data_folder(tmp_path):
    first = secret_key_in_a_fresh_process(PLAYGROUND_DATA_DIR=str(tmp_path))
    second = secret_key_in_a_fresh_process(PLAYGROUND_DATA_DIR=str(tmp_path))
    assert first == second == (tmp_path / "secret_key").read_text().strip()
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600


def test_secret_key_from_a_file(tmp_path):
    (tmp_path / "key").write_text("from-a-file\n")
    key = secret_key_in_a_fresh_process(SECRET_KEY_FILE=str(tmp_path / "key"), PLAYGROUND_DATA_DIR=str(tmp_path / "d"))
    assert key == "from-a-file"
    assert not (tmp_path / "d" / "secret_key").exists()
