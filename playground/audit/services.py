"""Writing audit entries: one function, called by the services that make the changes.

Callers pass what changed as plain values built by the snapshot helpers of their app
(providers.services.provider_snapshot, ...), which list the fields to keep one by one: a
key is only ever its "••••last4" label, a secret header only its name.
"""

from __future__ import annotations

from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from playground.audit.models import Action, AuditEntry


def _plain(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """JSON-ready values; bytes (ciphertext) are refused outright."""
    if values is None:
        return None
    for name, value in values.items():
        if isinstance(value, bytes | bytearray | memoryview):
            raise TypeError(f"Audit values must not hold bytes ({name}): ciphertext never goes into the log.")
    encoder = DjangoJSONEncoder()
    return {
        name: value
        if isinstance(value, str | int | float | bool | list | dict | type(None))
        else encoder.default(value)
        for name, value in values.items()
    }


def audit_record(
    *,
    actor,
    action: Action | str,
    obj: models.Model | None = None,
    team=None,
    object_type: str = "",
    object_id: int | None = None,
    label: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record that `actor` did `action` to `obj` (or the object described by type, id, label)."""
    if obj is not None:
        object_type = object_type or obj._meta.model_name
        object_id = object_id if object_id is not None else obj.pk
        label = label or str(obj)
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEntry.objects.create(
        actor=actor if authenticated else None,
        actor_name=actor.get_username() if authenticated else "",
        team=team,
        team_name=team.name if team is not None else "",
        action=Action(action),
        object_type=object_type,
        object_id=object_id,
        object_label=label[:300],
        before=_plain(before),
        after=_plain(after),
    )
