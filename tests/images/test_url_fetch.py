"""Downloading a picture an API points to (playground/upstream/fetch.py): the URL guard, no
redirects, the size cap, and no key sent. Served by a tiny local server over a real socket."""

from __future__ import annotations

import ipaddress

import pytest

from playground.upstream import errors, safety
from playground.upstream.fetch import FetchedFile, FileTooLarge, fetch_file
from tests.images.conftest import png_bytes
from tests.upstream.raw_server import RawServer, Reply

PNG = png_bytes()


def image_reply(body: bytes = PNG, **headers: str) -> Reply:
    return Reply(headers={"Content-Type": "image/png", **headers}, parts=[(0, body)])


def file_url(server: RawServer, host: str = "127.0.0.1") -> str:
    return server.url.replace("127.0.0.1", host) + "/files/picture.png"


async def test_a_file_is_fetched_whole_without_the_api_key():
    async with RawServer(image_reply()) as server:
        fetched = await fetch_file(file_url(server), allow_local=True, max_bytes=1_000_000)
    assert fetched == FetchedFile(content=PNG, content_type="image/png")
    [(request_line, headers, _body)] = server.requests
    assert request_line.startswith("GET /v1/files/picture.png")
    assert "authorization" not in headers


async def test_a_private_address_is_refused_without_connecting():
    async with RawServer(image_reply()) as server:
        with pytest.raises(errors.UrlNotAllowed, match="local or private network"):
            await fetch_file(file_url(server), allow_local=False, max_bytes=1_000_000)
    assert server.requests == []


async def test_a_host_name_that_resolves_to_a_private_address_is_refused(monkeypatch):
    """The guard judges the address actually connected, not the name in the URL."""

    async def resolve_to_loopback(host, port):
        return [ipaddress.ip_address("127.0.0.1")]

    monkeypatch.setattr(safety, "resolve", resolve_to_loopback)
    async with RawServer(image_reply()) as server:
        with pytest.raises(errors.UrlNotAllowed, match="images.example.com"):
            await fetch_file(file_url(server, "images.example.com"), allow_local=False, max_bytes=1_000_000)
    assert server.requests == []


async def test_redirects_are_not_followed():
    redirect = Reply(status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    async with RawServer(redirect, image_reply()) as server:
        with pytest.raises(errors.UrlNotAllowed, match="redirects are not followed"):
            await fetch_file(file_url(server), allow_local=True, max_bytes=1_000_000)
    assert len(server.requests) == 1


async def test_a_file_over_the_cap_is_cut_off_while_streaming():
    big = Reply(headers={"Content-Type": "image/png"}, parts=[(0, b"x" * 40_000)] * 5)
    async with RawServer(big) as server:
        with pytest.raises(FileTooLarge, match="larger than the 0.1 MB limit"):
            await fetch_file(file_url(server), allow_local=True, max_bytes=100_000)


async def test_an_error_status_is_reported_in_plain_words():
    async with RawServer(Reply(status=404, headers={"Content-Type": "text/plain"}, parts=[(0, b"gone")])) as server:
        with pytest.raises(errors.InvalidResponse, match=r"could not be downloaded \(HTTP 404\)"):
            await fetch_file(file_url(server), allow_local=True, max_bytes=1_000_000)


async def test_only_http_addresses_are_fetched():
    for url in ("file:///etc/passwd", "ftp://example.com/a.png"):
        with pytest.raises(errors.UrlNotAllowed):
            await fetch_file(url, allow_local=True, max_bytes=1_000)
        with pytest.raises(errors.UrlNotAllowed):
            await fetch_file(url, allow_local=False, max_bytes=1_000)
