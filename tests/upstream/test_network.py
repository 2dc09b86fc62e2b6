"""Our asyncio network layer under httpx: TLS, large bodies read slowly, closed keep-alives."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from playground.upstream import network
from playground.upstream.network import AsyncioBackend
from playground.upstream.transport import Transport
from tests.upstream.raw_server import RawServer, Reply


def client(**options) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=Transport(AsyncioBackend(), **options), timeout=10)


def self_signed(tmp_path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for 127.0.0.1, and a client context trusting it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    return server, ssl.create_default_context(cafile=str(cert_file))


async def test_https_works_and_the_certificate_is_checked(tmp_path):
    server_tls, client_tls = self_signed(tmp_path)
    async with RawServer(
        Reply(headers={"Content-Type": "text/plain"}, parts=[(0, b"over TLS")]), tls=server_tls
    ) as server:
        async with client(verify=client_tls) as trusting:
            response = await trusting.get(server.url + "/x")
            assert response.text == "over TLS"
            assert response.extensions["network_stream"].get_extra_info("ssl_object") is not None
        async with client() as default_trust:  # the system's authorities do not know this one
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await default_trust.get(server.url + "/x")


async def test_a_large_body_read_slowly_arrives_whole(monkeypatch):
    monkeypatch.setattr(network, "READ_HIGH_WATER", 64 * 1024)  # pause the socket early and often
    pieces = [bytes([n % 251]) * 50_000 for n in range(100)]  # 5 MB, sent as fast as possible
    async with (
        RawServer(
            Reply(headers={"Content-Type": "application/octet-stream"}, parts=[(0, p) for p in pieces])
        ) as server,
        client() as reader,
        reader.stream("GET", server.url + "/big") as response,
    ):
        received = bytearray()
        async for chunk in response.aiter_bytes():
            received += chunk
            if len(received) < 1_000_000:
                await asyncio.sleep(0.001)  # a slow reader for the first megabyte
    assert bytes(received) == b"".join(pieces)


async def test_a_keep_alive_connection_the_server_closed_is_replaced():
    reply = Reply(headers={"Content-Type": "text/plain"}, parts=[(0, b"hello")])
    transport = Transport(AsyncioBackend())
    async with RawServer(reply) as server, httpx.AsyncClient(transport=transport, timeout=10) as reader:
        assert (await reader.get(server.url + "/one")).text == "hello"
        server.close_connections()
        (pooled,) = transport.pool.connections
        async with asyncio.timeout(10):
            while not pooled.has_expired():  # until the client's idle connection has seen the close
                await asyncio.sleep(0)
        assert (await reader.get(server.url + "/two")).text == "hello"
        assert len(server.requests) == 2


async def test_connecting_to_a_closed_port_is_a_connect_error():
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    async with client() as reader:
        with pytest.raises(httpx.ConnectError):
            await reader.get(f"http://127.0.0.1:{port}/")
