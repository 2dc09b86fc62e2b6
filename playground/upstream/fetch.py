"""Downloading a file an API answer points to (an image URL), through the same URL-safety
guard and connection pool as every call, with a size cap and no redirects.

No API key or provider header is sent: the address may belong to anyone (a CDN, a signed
storage URL), and only the provider itself is trusted with the key.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from playground.upstream import errors
from playground.upstream.client import http_client
from playground.upstream.safety import check_url
from playground.upstream.target import Timeouts


class FileTooLarge(errors.UpstreamError):
    kind = "file_too_large"


@dataclass(frozen=True)
class FetchedFile:
    content: bytes
    content_type: str


async def fetch_file(url: str, *, allow_local: bool, max_bytes: int, timeouts: Timeouts | None = None) -> FetchedFile:
    """GET `url` and return its body, refusing private addresses unless `allow_local`.

    Raises UrlNotAllowed (private address, redirect, other scheme), FileTooLarge (over
    `max_bytes`, by Content-Length or while streaming), or another UpstreamError.
    """
    timeouts = timeouts or Timeouts.from_settings()
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname or "the address", parts.port  # an unclosed [ or a bad port raises
    except ValueError:
        raise errors.UrlNotAllowed("The file's address is not a valid URL.") from None
    if allow_local:
        if parts.scheme not in ("http", "https"):
            raise errors.UrlNotAllowed("Only http and https addresses can be downloaded.")
    else:
        check_url(url)
    client = http_client(allow_local=allow_local)
    timeout = httpx.Timeout(connect=timeouts.connect, read=timeouts.idle, write=timeouts.connect, pool=30)
    headers = {"User-Agent": "Playground", "Accept": "image/*"}
    try:
        async with (
            asyncio.timeout(timeouts.total),
            client.stream("GET", url, headers=headers, timeout=timeout, follow_redirects=False) as response,
        ):
            if 300 <= response.status_code < 400:
                raise errors.UrlNotAllowed(
                    f"The file at {host} redirected elsewhere; redirects are not followed.",
                    status=response.status_code,
                )
            if response.status_code >= 400:
                raise errors.InvalidResponse(
                    f"The file at {host} could not be downloaded (HTTP {response.status_code}).",
                    status=response.status_code,
                )
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise FileTooLarge(_too_large(host, max_bytes))
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise FileTooLarge(_too_large(host, max_bytes))
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    except TimeoutError:
        raise errors.TotalTimeout(f"Downloading the file from {host} took longer than {timeouts.total:g} s.") from None
    except httpx.TimeoutException:
        raise errors.IdleTimeout(f"The download from {host} stalled.") from None
    except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
        raise errors.ConnectionFailed(f"Could not download the file from {host}: {_describe(exc)}.") from None
    except httpx.UnsupportedProtocol:
        raise errors.UrlNotAllowed("Only http and https addresses can be downloaded.") from None
    return FetchedFile(content=bytes(body), content_type=content_type)


def _too_large(host: str, max_bytes: int) -> str:
    return f"The file at {host} is larger than the {max_bytes / 1_000_000:g} MB limit."


def _describe(exc: Exception) -> str:
    text = str(exc).strip()
    return text[:200] if text else exc.__class__.__name__
