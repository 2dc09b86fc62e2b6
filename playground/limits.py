"""The request body limit, enforced before a byte of an oversized body is read.

Django reads the whole body of a request (to memory, then to a temporary file) before any view
or form can look at its size, so a form's own "at most 5 MB" comes after the server has taken
in whatever was sent. This ASGI wrapper refuses a body over settings.REQUEST_MAX_BYTES with
413 and a page that says so: at once when Content-Length says it, and as soon as the count
passes the limit when the body comes without one (chunked).
"""

from __future__ import annotations

from django.conf import settings
from django.utils.html import escape


def too_large_message() -> str:
    return (
        f"This request is larger than {settings.REQUEST_MAX_BYTES >> 20} MB, the most this Playground "
        "accepts at once. Go back and choose a smaller file or shorter text."
    )


async def _refuse(send) -> None:
    message = escape(too_large_message())
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Too large</title></head>'
        f'<body><main><h1>Too large</h1><p role="alert">{message}</p></main></body></html>'
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"content-security-policy", b"default-src 'none'"),
                (b"x-content-type-options", b"nosniff"),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _declared_length(scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimit:
    """ASGI middleware for HTTP: no body over settings.REQUEST_MAX_BYTES reaches the app."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.application(scope, receive, send)
        limit = settings.REQUEST_MAX_BYTES
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            return await _refuse(send)

        seen = 0
        over = False
        started = False

        async def counted_receive():
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # The app sees the client go away and stops reading; we answer instead.
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def watched_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.application(scope, counted_receive, watched_send)
        if over and not started:
            await _refuse(send)
