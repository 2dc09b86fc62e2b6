"""Typed errors of upstream calls, each with a short message a person understands.

`message` is what the UI shows. `upstream_message` is the upstream's own words (already
cleaned of anything that looks like a key). No error ever carries request headers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Anything shaped like an API key that an upstream may echo back ("Incorrect API key
# provided: sk-abc…"). Long unbroken runs of key characters are masked.
_KEY_LIKE = re.compile(r"\b(?:sk|pk|rk|key|tok|jamai)[-_][A-Za-z0-9_\-]{8,}|\b[A-Za-z0-9_\-]{32,}\b")


def redact(text: str, *secrets: str | None) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "••••")
    return _KEY_LIKE.sub("••••", text)


class UpstreamError(Exception):
    kind = "error"
    retryable = False
    status: int | None = None
    outcome = "error"  # the usage record's status

    def __init__(self, message: str, *, status: int | None = None, upstream_message: str | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.upstream_message = upstream_message

    def __str__(self) -> str:
        return self.message

    def mask(self, *secrets: str | None) -> None:
        """Mask `secrets` and anything key-shaped in what this error says (see `redact`)."""
        self.message = redact(self.message, *secrets)
        self.args = (self.message,)
        if self.upstream_message:
            self.upstream_message = redact(self.upstream_message, *secrets)


class AuthenticationFailed(UpstreamError):
    kind = "authentication"


class RateLimited(UpstreamError):
    kind = "rate_limited"
    retryable = True
    outcome = "rate_limited"

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        limit: str | None = None,
        burst: str | None = None,
        **kwargs,
    ):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        self.limit = limit
        self.burst = burst


class BadRequest(UpstreamError):
    kind = "bad_request"


class ServerError(UpstreamError):
    kind = "server_error"
    retryable = True


class RetryableStatus(UpstreamError):
    """408 Request Timeout and 409 Conflict: the upstream asks us to try again."""

    kind = "retryable_status"
    retryable = True


class ConnectTimeout(UpstreamError):
    kind = "connect_timeout"
    retryable = True


class FirstByteTimeout(UpstreamError):
    kind = "first_byte_timeout"


class IdleTimeout(UpstreamError):
    kind = "idle_timeout"


class TotalTimeout(UpstreamError):
    kind = "total_timeout"


class ConnectionFailed(UpstreamError):
    kind = "connection_failed"
    retryable = True


class StreamBroken(UpstreamError):
    """The connection dropped in the middle of an answer."""

    kind = "stream_broken"


class StreamError(UpstreamError):
    """The upstream sent an error object inside the stream, after some of the answer."""

    kind = "stream_error"


class InvalidResponse(UpstreamError):
    kind = "invalid_response"


class UrlNotAllowed(UpstreamError):
    kind = "url_not_allowed"


class HeaderNotAllowed(UpstreamError):
    """A header of the provider (or its key) cannot go on the wire, e.g. non-ASCII or a line break."""

    kind = "header_not_allowed"


class BudgetExceeded(UpstreamError):
    """Refused by Playground before leaving: a monthly budget of the team is used up.
    The message names the limit, e.g. "The team's monthly budget of 1,000,000 tokens is
    used up (1,000,412 used)."."""

    kind = "budget"
    outcome = "refused"


# Where APIs put their words, most specific first: OpenAI `{"error": {"message"}}`, JamAI
# `{"error": "<code>", "message"}`, FastAPI `{"detail": "…" | [{"msg"}]}`, plain `{"message"}`.
_MESSAGE_KEYS = ("message", "detail", "msg", "error_message", "description")
_MAX_PARTS = 10  # of a list of messages (FastAPI lists one per invalid field)
# Longer messages are cut: they are shown on pages and sockets and stored with the answer.
MAX_MESSAGE = 500


def upstream_message_of(payload: object, secrets: Iterable[str | None] = ()) -> str | None:
    """The human message inside an OpenAI-style, JamAI-style, FastAPI-style or plain error
    body, cleaned of `secrets` (see `redact`) and cut to MAX_MESSAGE characters."""
    message = _message_of(payload)
    if message is None:
        return None
    return cut(redact(message, *secrets), MAX_MESSAGE)


def cut(text: str, limit: int) -> str:
    """`text`, ending in "…" where it was longer than `limit` characters. Redact first: a
    secret cut in two would no longer be found."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _message_of(payload: object, depth: int = 0) -> str | None:
    if depth > 4:
        return None
    if isinstance(payload, str):
        return payload.strip() or None
    if isinstance(payload, list):
        parts = [_message_of(item, depth + 1) for item in payload[:_MAX_PARTS]]
        return "; ".join(dict.fromkeys(part for part in parts if part)) or None
    if not isinstance(payload, dict):
        return None
    error = payload.get("error")
    if isinstance(error, dict | list):
        found = _message_of(error, depth + 1)
        if found:
            return found
    message = next((found for key in _MESSAGE_KEYS if (found := _message_of(payload.get(key), depth + 1))), None)
    code = error.strip() if isinstance(error, str) else ""
    if not code or code == message:
        return message or None
    if not message:
        return code
    # JamAI names the kind of error ("ResourceNotFoundError") beside its message: the message says it.
    if " " not in code or code in message:
        return message
    return f"{sentence(code)} {message}"


def sentence(text: str) -> str:
    """`text` as a sentence: a full stop is added unless it already ends with . ! ? or …
    (perhaps inside a closing quote or bracket), so a provider's "in 1s." never becomes "1s..".
    """
    text = text.rstrip()
    if text.rstrip("\"')]}»”’").endswith((".", "!", "?", "…", "。")):
        return text
    return text + "."


def error_for_status(status: int, upstream_message: str | None, headers) -> UpstreamError:
    said = f": {upstream_message}" if upstream_message else ""
    if status in (401, 403):
        return AuthenticationFailed(
            f"{sentence(f'The API key was refused ({status}){said}')} Check the key in the provider settings.",
            status=status,
            upstream_message=upstream_message,
        )
    if status == 429:
        retry_after = retry_after_seconds(headers)
        when = f" Try again in {retry_after:g} s." if retry_after is not None else ""
        limit, burst = headers.get("x-ratelimit-limit"), headers.get("x-ratelimit-burst")
        stated = ", ".join(f"{name} {value}" for name, value in (("limit", limit), ("burst", burst)) if value)
        limits = f" The provider's limits: {stated}." if stated else ""
        return RateLimited(
            f"{sentence(f'Rate limited by the provider{said}')}{when}{limits}",
            status=status,
            upstream_message=upstream_message,
            retry_after=retry_after,
            limit=limit,
            burst=burst,
        )
    if status in (408, 409):
        return RetryableStatus(
            sentence(f"The provider asked to try again ({status}){said}"),
            status=status,
            upstream_message=upstream_message,
        )
    if status >= 500:
        return ServerError(
            sentence(f"The provider had an internal error ({status}){said}"),
            status=status,
            upstream_message=upstream_message,
        )
    if status == 404:
        return BadRequest(
            sentence(f"Not found at the provider (404){said}"), status=status, upstream_message=upstream_message
        )
    return BadRequest(
        sentence(f"The provider rejected the request ({status}){said}"),
        status=status,
        upstream_message=upstream_message,
    )


def retry_after_seconds(headers) -> float | None:
    """Seconds to wait from `retry-after-ms` or `Retry-After` (seconds or an HTTP date)."""
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from datetime import UTC, datetime
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
