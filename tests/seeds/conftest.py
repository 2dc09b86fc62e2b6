"""The chat socket fixtures, shared with tests/chat."""

from __future__ import annotations

from tests.chat.conftest import connect, fresh_rate_limits  # noqa: F401  (fixtures)
