"""Where upstream calls are counted. upstream knows no app: the usage app registers its
recorder at start-up (UsageConfig.ready), and the client asks it before a call (budgets)
and after (one record per call or retried attempt). Both methods run in the database thread."""

from __future__ import annotations

from typing import Any, Protocol


class Recorder(Protocol):
    def budget_refusal(self, *, team_id: int, user_id: int | None) -> str | None:
        """Why a call of this person in this team is refused (a used-up budget), or None."""

    def record(self, **fields: Any) -> None:
        """Write one call's usage record (the fields of _Call.record)."""


_registered: Recorder | None = None


def register(recorder: Recorder) -> None:
    global _registered
    _registered = recorder


def recorder() -> Recorder:
    if _registered is None:
        raise RuntimeError("No usage recorder is registered: the usage app registers one when Django starts.")
    return _registered
