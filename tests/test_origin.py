"""The websocket Origin rule: same scheme, host and port as the request, or a trusted origin."""

from __future__ import annotations

import pytest

from playground.origin import origin_allowed


def handshake(origin: str, host: str = "play.example.com", scheme: str = "ws", **headers: str) -> dict:
    pairs = [(b"host", host.encode()), (b"origin", origin.encode())]
    pairs += [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()]
    return {"type": "websocket", "scheme": scheme, "headers": pairs}


@pytest.fixture(autouse=True)
def hosts(settings):
    settings.ALLOWED_HOSTS = ["play.example.com", "127.0.0.1"]
    settings.CSRF_TRUSTED_ORIGINS = []


@pytest.mark.parametrize(
    ("origin", "host", "scheme", "allowed"),
    [
        ("http://play.example.com", "play.example.com", "ws", True),
        ("http://PLAY.example.com:80", "play.example.com", "ws", True),
        ("https://play.example.com", "play.example.com", "wss", True),
        ("http://play.example.com", "play.example.com", "wss", False),
        ("https://play.example.com", "play.example.com", "ws", False),
        ("http://127.0.0.1:8000", "127.0.0.1:8000", "ws", True),
        ("http://127.0.0.1:8001", "127.0.0.1:8000", "ws", False),
        ("http://127.0.0.1", "127.0.0.1:8000", "ws", False),
        ("http://evil.example", "evil.example", "ws", False),  # not an allowed host
        ("http://play.example.com.evil.example", "play.example.com", "ws", False),
        ("javascript://play.example.com", "play.example.com", "ws", False),
        ("http://play.example.com:notaport", "play.example.com", "ws", False),
        ("null", "play.example.com", "ws", False),
    ],
)
def test_only_the_sites_own_origin_may_open_a_socket(origin, host, scheme, allowed):
    assert origin_allowed(handshake(origin, host, scheme)) is allowed


def test_behind_a_tls_proxy_the_forwarded_scheme_counts(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert origin_allowed(handshake("https://play.example.com", x_forwarded_proto="https"))
    assert not origin_allowed(handshake("http://play.example.com", x_forwarded_proto="https"))
    assert not origin_allowed(handshake("https://play.example.com", x_forwarded_proto="http"))


def test_a_trusted_origin_may_open_a_socket_and_only_exactly(settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://admin.example.com"]
    assert origin_allowed(handshake("https://admin.example.com"))
    assert not origin_allowed(handshake("http://admin.example.com"))
    assert not origin_allowed(handshake("https://admin.example.com:8443"))
