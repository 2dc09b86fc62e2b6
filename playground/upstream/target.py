"""What a call needs to know about the provider it goes to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings

DEFAULT_PATHS: Mapping[str, str] = {
    "chat": "/chat/completions",
    "completions": "/completions",
    "images": "/images/generations",
    "embeddings": "/embeddings",
    "rerank": "/rerank",
    "models": "/models",
    "openapi": "/openapi.json",
}


def endpoint_url(base_url: str, path: str) -> str:
    """The URL of a path from an API document, under the provider's base URL.

    Documents write a path from their base URL (`/chat/completions` under `…/v1`) or from the
    server's root: vLLM publishes `/openapi.json` at the root with `/v1/chat/completions`, and
    JamAI documents `/api/v1/…`. Where the path starts with the segments the base URL ends
    with, they are the same segments and are not repeated (`…/v1` + `/v1/models` is `…/v1/models`).
    """
    base = base_url.rstrip("/")
    base_segments = [segment for segment in urlsplit(base).path.split("/") if segment]
    path_segments = path.lstrip("/").split("/")
    overlap = next(
        (
            size
            for size in range(min(len(base_segments), len(path_segments) - 1), 0, -1)
            if base_segments[-size:] == path_segments[:size]
        ),
        0,
    )
    return base + "/" + "/".join(path_segments[overlap:])


@dataclass(frozen=True)
class Timeouts:
    connect: float
    first_byte: float
    idle: float
    total: float

    @classmethod
    def from_settings(cls, **overrides: float | None) -> Timeouts:
        values = {
            "connect": settings.UPSTREAM_CONNECT_TIMEOUT,
            "first_byte": settings.UPSTREAM_FIRST_BYTE_TIMEOUT,
            "idle": settings.UPSTREAM_IDLE_TIMEOUT,
            "total": settings.UPSTREAM_TOTAL_TIMEOUT,
        }
        values.update({name: value for name, value in overrides.items() if value is not None})
        return cls(**values)


@dataclass(frozen=True)
class Target:
    """A provider as the upstream client sees it. The key and headers never appear in repr."""

    base_url: str
    api_key: str | None = field(default=None, repr=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    paths: Mapping[str, str] = field(default_factory=lambda: DEFAULT_PATHS)
    allow_local: bool = False
    timeouts: Timeouts | None = None
    # Ask for usage in streams (stream_options.include_usage) where the API accepts it.
    stream_usage: bool = True
    name: str = ""

    def url(self, endpoint: str) -> str:
        return endpoint_url(self.base_url, self.paths.get(endpoint) or DEFAULT_PATHS[endpoint])

    def secrets(self) -> tuple[str, ...]:
        """What no message may show: the key and the values of the provider's headers (which
        hold secrets such as JamAI's project id)."""
        return tuple(value for value in (self.api_key, *self.headers.values()) if value)

    def request_headers(self, *, stream: bool = False) -> dict[str, str]:
        headers = {"User-Agent": "Playground", "Accept": "text/event-stream" if stream else "application/json"}
        if stream:
            headers["Accept-Encoding"] = "identity"  # tokens one by one gain nothing from compression
        headers.update(self.headers)
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers


@dataclass(frozen=True)
class CallContext:
    """Who makes a call and for what: written to the call's usage record."""

    team_id: int | None = None
    project_id: int | None = None
    user_id: int | None = None
    provider_id: int | None = None
    key_id: int | None = None
    # False only where the client itself is measured (benchmarks); product code records.
    record: bool = True
    # The team's budgets, checked by whoever built this context (providers.keys.target_for
    # does, in the database trip that picks the key): the refusal's message when one is used
    # up. Unchecked contexts are checked by the client before the first attempt.
    budget_checked: bool = False
    budget_refusal: str | None = None
