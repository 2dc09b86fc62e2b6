"""The message roles a chat request schema accepts, read from `messages[].role`."""

from __future__ import annotations

from typing import Any

from playground.schema.kinds import alternatives, choices_of


def message_roles(request_schema: dict[str, Any]) -> tuple[str, ...] | None:
    """The roles in schema order (first appearance), or None when the schema leaves `role` open.

    Handles a single message schema with a role enum or const, and a oneOf/anyOf of message
    schemas (discriminated or not) each with its own role; a discriminator's mapping is the
    fallback when the alternatives do not state their roles.
    """
    messages = (request_schema.get("properties") or {}).get("messages")
    items = messages.get("items") if isinstance(messages, dict) else None
    if not isinstance(items, dict):
        return None
    shapes, _ = alternatives(items)
    roles: list[str] = []
    for shape in shapes:
        role = (shape.get("properties") or {}).get("role")
        values = _role_values(role)
        if values is None:
            return _from_discriminator(items)
        roles.extend(value for value in values if value not in roles)
    return tuple(roles) or None


def _role_values(role: Any) -> list[str] | None:
    if not isinstance(role, dict):
        return None
    role_shapes, _ = alternatives(role)
    values = [value for shape in role_shapes for value in choices_of(shape)]
    if not role_shapes or len(values) == 0 or any(not choices_of(shape) for shape in role_shapes):
        return None
    return [value for value in values if isinstance(value, str)]


def _from_discriminator(items: dict[str, Any]) -> tuple[str, ...] | None:
    discriminator = items.get("discriminator")
    if isinstance(discriminator, dict) and discriminator.get("propertyName") == "role":
        mapping = discriminator.get("mapping")
        if isinstance(mapping, dict) and mapping:
            return tuple(str(role) for role in mapping)
    return None


def history_policy(roles: tuple[str, ...] | None) -> str | None:
    """What a chat page must tell the person when the API cannot take the conversation as-is.

    An API without the assistant role cannot be sent earlier answers, so only the system
    text (where allowed) and the latest user message go out; None when history can be sent.
    """
    if roles is None or "assistant" in roles:
        return None
    kept = " and ".join(
        part for part in ("the system prompt" if "system" in roles else "", "your latest message") if part
    )
    return (
        f"This API accepts only the roles {', '.join(roles)} — no assistant messages — so earlier answers cannot "
        f"be sent back to it. Each message is sent on its own: {kept}, without the conversation before it."
    )
