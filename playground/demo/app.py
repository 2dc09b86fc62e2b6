"""Built-in OpenAI-compatible demo upstream (placeholder until implemented)."""

from __future__ import annotations

DEMO_PREFIX = "/demo/v1"


async def application(scope, receive, send):
    await send({"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"error": {"message": "not implemented"}}'})
