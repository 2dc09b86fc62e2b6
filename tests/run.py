"""`make test`: the whole suite on SQLite, then the database tests again on PostgreSQL.

Run as `python -m tests.run [pytest args]`. Outside CI, the PostgreSQL pass is skipped with
a message when the service does not answer; in CI it must run.
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.services import HOW_TO, POSTGRES_URL, available, in_ci


def pytest(args: list[str], env: dict[str, str]) -> int:
    return subprocess.call([sys.executable, "-m", "pytest", *args], env=env)


def main() -> int:
    args = sys.argv[1:]
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    print("== Test pass 1 of 2: SQLite, in-memory channel layer, browser tests", flush=True)
    # Tests marked `postgres` (two worker processes sharing a database) run in pass 2 only.
    status = pytest([*args, "-m", "not postgres"], env)
    if status != 0:
        return status
    if not available("postgres"):
        message = f"PostgreSQL pass skipped: {HOW_TO['postgres']}"
        if in_ci():
            print(f"{message}. CI must run it.", flush=True)
            return 1
        print(message, flush=True)
        return 0
    print("== Test pass 2 of 2: the database tests again on PostgreSQL, and the multi-worker tests", flush=True)
    return pytest([*args, "-m", "not browser"], {**env, "DATABASE_URL": POSTGRES_URL})


if __name__ == "__main__":
    sys.exit(main())
