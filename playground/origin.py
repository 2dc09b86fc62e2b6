"""The websocket Origin check: a socket opens only from a page of this very site.

Browsers send cookies with a websocket handshake whatever page opens it, so the handshake's
Origin is what tells our own pages from any other. Channels' AllowedHostsOriginValidator
compares host names only: a page on another port of an allowed host (another app on the
same machine, say) or on plain http of an https site passed. Here the Origin must name the
same scheme, host and port as the request itself (the Host header, with http for ws and
https for wss or behind a proxy that says so through SECURE_PROXY_SSL_HEADER), or be one of
CSRF_TRUSTED_ORIGINS, the setting that already names the other origins allowed to post forms
(exactly: a wildcard entry there allows no socket).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_key(scheme: str, netloc: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin, the default port filled in; None if malformed."""
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        port = parts.port
    except ValueError:
        return None
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def request_scheme(scope) -> str:
    """http or https, as Django's request.scheme would say for this handshake."""
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        header, secure_value = proxy
        name = header.removeprefix("HTTP_").replace("_", "-").lower().encode()
        forwarded = _header(scope, name)
        if forwarded is not None:
            return "https" if forwarded.split(",")[0].strip() == secure_value else "http"
    return "https" if scope.get("scheme") in ("wss", "https") else "http"


def origin_allowed(scope) -> bool:
    origin = _header(scope, b"origin")
    host = _header(scope, b"host")
    if not origin or not host:
        return False
    domain, _ = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    theirs = _origin_key(parts.scheme, parts.netloc)
    if theirs is None:
        return False
    trusted = set()
    for allowed in settings.CSRF_TRUSTED_ORIGINS:
        allowed_parts = urlsplit(allowed)
        trusted.add(_origin_key(allowed_parts.scheme, allowed_parts.netloc))
    return theirs == _origin_key(request_scheme(scope), host) or theirs in trusted


class SameOriginValidator:
    """ASGI middleware: refuse (close with 403 before accepting) a handshake from another origin."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            # Consume the connect event, then refuse the handshake (Daphne answers 403).
            await receive()
            await send({"type": "websocket.close", "code": 4403})
            return
        return await self.application(scope, receive, send)
