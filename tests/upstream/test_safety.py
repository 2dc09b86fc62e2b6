"""Outbound URL safety: local, private and metadata addresses are refused unless allowed."""

from __future__ import annotations

import pytest

from playground.upstream import CallContext, Target, chat, errors, models
from playground.upstream.safety import PublicOnlyBackend, address_is_public, check_url
from tests.upstream.raw_server import RawServer, json_reply

NO_RECORD = CallContext(record=False)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("::ffff:8.8.8.8", True),
        ("127.0.0.1", False),
        ("127.8.9.10", False),
        ("::1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.0.10", False),
        ("169.254.169.254", False),  # cloud metadata (AWS, GCP, Azure)
        ("fd00:ec2::254", False),  # AWS metadata over IPv6
        ("100.100.100.200", False),  # Alibaba metadata, in CGNAT space
        ("100.64.0.1", False),  # CGNAT
        ("0.0.0.0", False),
        ("::", False),
        ("224.0.0.1", False),
        ("ff02::1", False),
        ("fe80::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped IPv6
        ("::ffff:169.254.169.254", False),
        ("::127.0.0.1", False),  # IPv4-compatible IPv6
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 form of 169.254.169.254
        ("2002:a9fe:a9fe::", False),  # 6to4 form of 169.254.169.254
        ("240.0.0.1", False),  # reserved
    ],
)
def test_address_table(address, public):
    assert address_is_public(address) is public


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/v1",
        "http://localhost/v1",
        "http://api.localhost/v1",
        "http://[::1]/v1",
        "http://[::ffff:7f00:1]/v1",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.5/v1",
        "file:///etc/passwd",
        "ftp://example.com/",
        "http:///nohost",
    ],
)
def test_urls_refused_before_connecting(url):
    with pytest.raises(errors.UrlNotAllowed):
        check_url(url)


def test_public_names_pass_the_early_check():
    check_url("https://api.openai.com/v1")
    check_url("https://openai.inference.de-txl.ionos.com/v1")


async def test_a_name_that_resolves_to_loopback_is_refused_at_connect():
    # The early check cannot know what a name resolves to; the connect-time check does.
    with pytest.raises(errors.UrlNotAllowed):
        await PublicOnlyBackend().connect_tcp("localhost", 80, timeout=2)


async def test_a_provider_on_loopback_is_refused_without_the_local_flag():
    async with RawServer(json_reply(200, {"data": [{"id": "m"}]})) as server:
        with pytest.raises(errors.UrlNotAllowed) as caught:
            await models(Target(base_url=server.url), context=NO_RECORD)
        assert server.requests == []
        found = await models(Target(base_url=server.url, allow_local=True), context=NO_RECORD)
    assert [model.id for model in found] == ["m"]
    assert "local or private network" in caught.value.message


async def test_the_guarded_pool_checks_every_connection_it_opens(monkeypatch):
    # Even if the early URL check were bypassed, the pool for public providers refuses to
    # open a socket to a loopback address.
    monkeypatch.setattr("playground.upstream.client.check_url", lambda url: None)
    async with RawServer(json_reply(200, {"choices": []})) as server:
        with pytest.raises(errors.UrlNotAllowed):
            await chat(Target(base_url=server.url), {"model": "m", "messages": []}, context=NO_RECORD)
        assert server.requests == []
