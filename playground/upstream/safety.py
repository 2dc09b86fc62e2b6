"""Outbound URL safety: providers may not reach this machine's or its network's addresses.

The check is made on the address actually connected, inside the connection pool's network
backend: the host name is resolved once, every resolved address is vetted, and the socket
is opened to a vetted address (so DNS rebinding cannot swap in another). IPv4-mapped and
other embedded IPv4 forms of IPv6 are judged by the IPv4 address inside. Redirects are not
followed at all. Providers that staff marked "may reach the local network" use a separate
pool without this check, so a connection opened for one can never be reused by the other.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

import httpcore

from playground.upstream.errors import UrlNotAllowed
from playground.upstream.network import AsyncioBackend

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    # IPv4-compatible (::a.b.c.d, deprecated) and NAT64 (64:ff9b::/96) forms.
    if ip in ipaddress.IPv6Network("::/96") or ip in ipaddress.IPv6Network("64:ff9b::/96"):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_is_public(address: str | IPAddress) -> bool:
    """True only for globally routable unicast addresses (no loopback, private, link-local,
    CGNAT, multicast, unspecified, reserved or cloud-metadata ranges)."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return False
        inner = _embedded_ipv4(ip)
        if inner is not None:
            return address_is_public(inner)
    return ip.is_global and not ip.is_multicast


def check_url(url: str) -> None:
    """Refuse what can be refused before connecting: other schemes, and literal addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UrlNotAllowed(f"Only http and https URLs with a host name can be used (got “{parts.scheme}:”).")
    host = parts.hostname
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
            raise _refused(host) from None
        return
    if not address_is_public(ip):
        raise _refused(host)


def _refused(host: str) -> UrlNotAllowed:
    return UrlNotAllowed(
        f"The provider's address {host} is on a local or private network, which this provider may not reach. "
        "A site administrator can allow it for providers such as Ollama or vLLM on this machine."
    )


async def resolve(host: str, port: int) -> list[IPAddress]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        ip = ipaddress.ip_address(sockaddr[0])
        if ip not in seen:
            seen.append(ip)
    return seen


class PublicOnlyBackend(httpcore.AsyncNetworkBackend):
    """Wraps httpcore's network backend: connects only to vetted public addresses."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend | None = None):
        self._inner = inner or AsyncioBackend()

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            async with asyncio.timeout(timeout):
                addresses = await resolve(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None
        except OSError as error:
            raise httpcore.ConnectError(f"could not resolve {host}: {error.strerror or error}") from None
        public = [ip for ip in addresses if address_is_public(ip)]
        if not public:
            raise _refused(host)
        last_error: Exception | None = None
        for ip in public:
            try:
                stream = await self._inner.connect_tcp(
                    str(ip), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last_error = error
                continue
            peer = stream.get_extra_info("server_addr")
            if peer and not address_is_public(peer[0]):
                await stream.aclose()
                raise _refused(host)
            return stream
        assert last_error is not None
        raise last_error

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise UrlNotAllowed("Unix sockets are not allowed for providers.")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
