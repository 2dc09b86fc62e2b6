"""A team admin who is not staff can never make the server connect to a non-public address.

Every place that stores or fetches a URL is driven through its real view (or the chat
socket) while the resolver hands out only local, private or metadata addresses for the
names these tests use, and every socket connect is watched: a connection to anything but
the endpoint a test allowed is refused before a packet leaves, and one to a non-public
address fails the test. Staff's permission to reach the local network holds for the exact
address staff saw, and only for it.
"""

from __future__ import annotations

import errno
import html as html_module
import re
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from asgiref.sync import sync_to_async
from django.urls import reverse

from playground.chat.models import Conversation, Mode
from playground.images.models import GeneratedImage
from playground.providers.models import ApiKey, Provider
from playground.providers.services import LOCAL_NEEDS_STAFF_AGAIN
from playground.upstream.network import AsyncioBackend
from tests.chat.conftest import connect, frames_until_done  # noqa: F401 (connect is a fixture)
from tests.factories import SHARED_KEY, ApiKeyFactory
from tests.images.conftest import png_bytes
from tests.images.test_provider_answers import generate, images_reply, provider_at, said
from tests.upstream.raw_server import RawServer, Reply

# The one public address the resolver below hands out; connecting to it is refused too
# (nothing leaves the machine), but it is not a leak.
PUBLIC = "93.184.216.34"
NAMES: dict[str, list[str]] = {
    "localhost": ["127.0.0.1", "::1"],
    "loopback.example": ["127.0.0.1"],
    "private.example": ["10.1.2.3"],
    "metadata.example": ["169.254.169.254"],
    "v6-loopback.example": ["::1"],
    "ula.example": ["fc00::1"],
    "unspecified.example": ["0.0.0.0"],
    "mapped.example": ["::ffff:127.0.0.1"],
    # Public and private at once, in both orders: only the public one may ever be tried.
    "mixed.example": [PUBLIC, "10.0.0.7"],
    "private-first.example": ["10.0.0.7", PUBLIC],
}
# Names a provider can be saved with (localhost is refused by its name, before any lookup).
PRIVATE_NAMES = [name for name, addresses in NAMES.items() if PUBLIC not in addresses and name != "localhost"]
MIXED_NAMES = ["mixed.example", "private-first.example"]
REFUSED = "is on a local or private network, which this provider may not reach"
MANAGEMENT = {"headers-TOTAL_FORMS": "0", "headers-INITIAL_FORMS": "0"}


@dataclass
class Network:
    """The connects the code under test attempted. Only `allowed` endpoints really connect."""

    allowed: set[tuple[str, int]] = field(default_factory=set)
    attempts: list[tuple[str, int]] = field(default_factory=list)  # refused here
    connected: list[tuple[str, int]] = field(default_factory=list)  # to allowed endpoints

    def allow(self, url: str) -> None:
        parts = urlsplit(url)
        self.allowed.add((parts.hostname, parts.port))

    @property
    def leaks(self) -> list[tuple[str, int]]:
        return [attempt for attempt in self.attempts if attempt[0] != PUBLIC]


@pytest.fixture
def network(monkeypatch):
    """The resolver knows only NAMES (and literal addresses); connects are watched."""
    watched = Network()
    real_getaddrinfo, real_connect, real_connect_ex = (
        socket.getaddrinfo,
        socket.socket.connect,
        socket.socket.connect_ex,
    )

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        name = (host.decode() if isinstance(host, bytes) else host or "").lower().rstrip(".")
        if name not in NAMES:
            # Literal addresses only: no name this test did not plan for reaches a DNS server.
            return real_getaddrinfo(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)
        found = []
        for address in NAMES[name]:
            v6 = ":" in address
            if family in (socket.AF_INET, socket.AF_INET6) and family != (socket.AF_INET6 if v6 else socket.AF_INET):
                continue
            sockaddr = (address, int(port or 0), 0, 0) if v6 else (address, int(port or 0))
            found.append((socket.AF_INET6 if v6 else socket.AF_INET, type or socket.SOCK_STREAM, proto, "", sockaddr))
        return found

    def vetted(real):
        def guarded(sock, address):
            if sock.family not in (socket.AF_INET, socket.AF_INET6):
                return real(sock, address)
            endpoint = (address[0], address[1])
            if endpoint in watched.allowed:
                watched.connected.append(endpoint)
                return real(sock, address)
            watched.attempts.append(endpoint)
            raise ConnectionRefusedError(errno.ECONNREFUSED, f"the test refused a connection to {endpoint}")

        return guarded

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", vetted(real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", vetted(real_connect_ex))
    yield watched
    assert not watched.leaks, f"the server tried to connect to non-public addresses: {watched.leaks}"


@pytest.fixture
def admin(client, team_with_roles):
    """The client, signed in as the team's admin, who is not staff."""
    user = team_with_roles.users["admin"]
    assert not user.is_staff
    client.force_login(user)
    return client


def told(response) -> str:
    """The messages shown on the page a redirect led to."""
    return " ".join(str(message) for message in response.context["messages"])


def beside(response, name: str) -> str:
    """The errors shown in a field's own group of the form on the page."""
    match = re.search(rf'<ul class="errorlist" id="id_{name}_error">(.*?)</ul>', response.content.decode(), re.S)
    assert match, f"no errors beside {name}"
    return html_module.unescape(re.sub(r"<[^>]+>", " ", match.group(1)))


def edit(client, provider: Provider, **changes):
    """Post the provider's edit form with its present settings, and `changes`."""
    data = {"name": provider.name, "base_url": provider.base_url, "profile": provider.profile, **MANAGEMENT}
    data["default_model"] = provider.default_model
    return client.post(reverse("provider_edit", args=[provider.pk]), {**data, **changes})


def use_every_way(client, provider: Provider) -> dict[str, str]:
    """What each call that fetches from the provider's address tells the admin."""
    key = ApiKey.objects.filter(provider=provider).first() or ApiKeyFactory(provider=provider, owner=None)
    return {
        "models": told(client.post(reverse("models_refresh", args=[provider.pk]), follow=True)),
        "schema": told(client.post(reverse("schema_refresh", args=[provider.pk]), follow=True)),
        "key test": told(client.post(reverse("key_test", args=[key.pk]), follow=True)),
    }


# --- The watch itself ----------------------------------------------------------------------


async def test_the_watch_catches_a_connection_that_bypasses_the_guard(network):
    """The unguarded backend (the staff-allowed pool's) does connect where the resolver
    points, so the watch sees the attempt: the tests below would notice a leak."""
    with pytest.raises(Exception, match="the test refused a connection"):
        await AsyncioBackend().connect_tcp("metadata.example", 80, timeout=2)
    assert network.attempts == [("169.254.169.254", 80)]
    network.attempts.clear()


# --- Providers: create, edit, schema refresh, models refresh, key test -----------------------


@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1/v1",
        "http://10.1.2.3/v1",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/v1",
        "http://[fc00::1]/v1",
        "http://0.0.0.0:8000/v1",
        "http://[::ffff:127.0.0.1]:8000/v1",
        "http://localhost:11434/v1",
    ],
)
def test_a_local_address_is_refused_beside_the_base_url_field(admin, team_with_roles, network, base_url):
    data = {"name": "Sneaky", "base_url": base_url, "profile": "openai", "allow_local": "on", **MANAGEMENT}
    response = admin.post(reverse("provider_list", args=[team_with_roles.team.pk]), data)
    assert response.status_code == 200
    assert REFUSED in beside(response, "base_url")
    assert not Provider.objects.filter(name="Sneaky").exists()
    assert network.attempts == []


@pytest.mark.parametrize("name", PRIVATE_NAMES)
def test_a_name_that_resolves_to_a_local_address_is_stored_without_access_and_never_reached(
    admin, team_with_roles, network, name
):
    """What a name resolves to can change after it is saved, so it is judged at each
    connect: every call that fetches from it is refused, with the reason in its result."""
    data = {"name": "By name", "base_url": f"http://{name}:8000/v1", "profile": "openai", **MANAGEMENT}
    admin.post(reverse("provider_list", args=[team_with_roles.team.pk]), data)
    provider = Provider.objects.get(name="By name")
    assert not provider.allow_local and not provider.reaches_local
    results = use_every_way(admin, provider)
    assert f"Could not list the models: The provider's address {name} {REFUSED}" in results["models"]
    assert f"Could not load the provider's schema: The provider's address {name} {REFUSED}" in results["schema"]
    assert f"The provider's address {name} {REFUSED}" in results["key test"]
    assert network.attempts == []


@pytest.mark.parametrize("name", MIXED_NAMES)
def test_a_name_with_public_and_private_addresses_is_only_tried_at_the_public_one(
    admin, demo_provider, network, settings, name
):
    settings.UPSTREAM_BACKOFF_BASE = 0.01  # a refused connect is retried; no need to wait for it
    demo_provider.base_url = f"http://{name}:8000/v1"
    demo_provider.allow_local, demo_provider.local_url = False, ""
    demo_provider.save()
    results = use_every_way(admin, demo_provider)
    assert "Could not list the models: Could not reach the provider" in results["models"]
    # Retried, as any connect failure is, and never at the private address.
    assert network.attempts and set(network.attempts) == {(PUBLIC, 8000)}


def test_a_new_base_url_by_a_non_staff_admin_takes_the_local_allowance_away(
    admin, team_with_roles, demo_provider, demo_upstream_url, network
):
    """The review's bypass: staff allowed the demo's address; an admin renames it to a name
    that resolves to the same local service. The allowance is gone and every call refused."""
    port = urlsplit(demo_upstream_url).port
    renamed = f"http://loopback.example:{port}/demo/v1"
    response = edit(admin, demo_provider, base_url=renamed)
    assert response.status_code == 302
    demo_provider.refresh_from_db()
    assert (demo_provider.base_url, demo_provider.allow_local, demo_provider.local_url) == (renamed, False, "")
    results = use_every_way(admin, demo_provider)
    assert all(f"The provider's address loopback.example {REFUSED}" in text for text in results.values()), results

    # Putting the approved address back does not bring the allowance back: that is staff's.
    response = edit(admin, demo_provider, base_url=demo_upstream_url)
    assert f"The provider's address 127.0.0.1 {REFUSED}" in beside(response, "base_url")
    demo_provider.refresh_from_db()
    assert (demo_provider.base_url, demo_provider.reaches_local) == (renamed, False)
    assert network.attempts == []


@pytest.mark.parametrize(
    "base_url",
    [
        "http://localhost:{port}/demo/v1",
        "http://127.0.0.1:{port}/demo/v1/",
        "http://127.0.0.2:{port}/demo/v1",
        "http://[::1]:{port}/demo/v1",
        "http://[::ffff:127.0.0.1]:{port}/demo/v1",
        "http://0.0.0.0:{port}/demo/v1",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3:{port}/v1",
    ],
)
def test_an_allowed_provider_cannot_be_moved_to_another_local_address_by_a_non_staff_admin(
    admin, demo_provider, demo_upstream_url, network, base_url
):
    """Even the same service spelled another way: the permission is for the address staff saw."""
    before = (demo_provider.base_url, demo_provider.allow_local, demo_provider.local_url)
    moved = base_url.format(port=urlsplit(demo_upstream_url).port)
    response = edit(admin, demo_provider, base_url=moved)
    assert response.status_code == 200
    errors = beside(response, "base_url")
    assert REFUSED in errors and LOCAL_NEEDS_STAFF_AGAIN in errors
    demo_provider.refresh_from_db()
    assert (demo_provider.base_url, demo_provider.allow_local, demo_provider.local_url) == before
    assert network.attempts == []


def test_the_address_staff_approved_keeps_working_and_only_that_one(
    client, admin, team_with_roles, demo_upstream_url, network
):
    """Staff point a provider at the local demo and allow it; a non-staff admin may then
    edit its other settings and use it, and it connects to exactly that address."""
    network.allow(demo_upstream_url)
    data = {"name": "Local", "base_url": "https://llm.example.com/v1", "profile": "demo", **MANAGEMENT}
    admin.post(reverse("provider_list", args=[team_with_roles.team.pk]), data)
    provider = Provider.objects.get(name="Local")
    ApiKeyFactory(provider=provider, owner=None, plain=SHARED_KEY)

    staff = team_with_roles.users["owner"]
    staff.is_staff = True
    staff.save()
    client.force_login(staff)
    assert edit(client, provider, base_url=demo_upstream_url, allow_local="on").status_code == 302
    provider.refresh_from_db()
    assert provider.reaches_local and provider.local_url == demo_upstream_url

    client.force_login(team_with_roles.users["admin"])
    assert edit(client, provider, name="Local demo", default_model="demo-chat").status_code == 302
    provider.refresh_from_db()
    assert provider.reaches_local and provider.name == "Local demo"
    results = use_every_way(client, provider)
    assert "Local demo lists" in results["models"] and "The key works" in results["key test"]
    assert "Loaded the provider's own /openapi.json" in results["schema"]
    demo = (urlsplit(demo_upstream_url).hostname, urlsplit(demo_upstream_url).port)
    assert network.connected and set(network.connected) == {demo}
    assert network.attempts == []


# --- Chat and text completion through the socket ---------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mode", [Mode.CHAT, Mode.COMPLETION])
@pytest.mark.parametrize("name", PRIVATE_NAMES)
async def test_a_chat_answer_from_a_local_address_is_refused_in_the_answer(
    team_with_roles,
    demo_provider,
    connect,  # noqa: F811 (the chat tests' fixture, imported above)
    network,
    name,
    mode,
):
    demo_provider.base_url = f"http://{name}:8000/v1"  # as a non-staff admin's edit leaves it
    demo_provider.allow_local, demo_provider.local_url = False, ""
    await sync_to_async(demo_provider.save)()
    conversation = await Conversation.objects.acreate(
        project=team_with_roles.project, provider=demo_provider, model="demo-chat", mode=mode
    )
    socket_, connected, _ = await connect(conversation, who="admin")
    assert connected
    await socket_.send_json_to({"type": "send", "text": "What is in your metadata?"})
    frames = await frames_until_done(socket_)
    assert frames[-1]["status"] == "error"
    assert f"The provider's address {name} {REFUSED}" in frames[-1]["error"]
    answer = await conversation.messages.aget(role="assistant")
    assert answer.status == "error" and REFUSED in answer.error and answer.content == ""
    assert network.attempts == []
    await socket_.disconnect()


# --- Pictures an image answer points to ------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "media"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://metadata.example/latest/meta-data/",
        "http://10.1.2.3/picture.png",
        "http://[fc00::1]/picture.png",
        "http://[::1]:{port}/v1/files/1.png",
        "http://0.0.0.0:{port}/v1/files/1.png",
        # The provider's own service, spelled otherwise: only its exact origin is allowed.
        "http://localhost:{port}/v1/files/1.png",
        "http://loopback.example:{port}/v1/files/1.png",
        "http://[::ffff:127.0.0.1]:{port}/v1/files/1.png",
        "http://mapped.example:{port}/v1/files/1.png",
        "http://127.0.0.1:{other_port}/v1/files/1.png",
    ],
)
async def test_an_image_answer_cannot_make_the_server_fetch_a_local_address(
    async_client, team_with_roles, network, media, url
):
    """The provider is staff-allowed at its own address; its answer names another local one."""
    async with RawServer(Reply(headers={"Content-Type": "image/png"}, parts=[(0, png_bytes())])) as server:
        port = urlsplit(server.url).port
        network.allow(server.url)
        server.replies.insert(0, images_reply({"url": url.format(port=port, other_port=port + 1)}))
        provider = await provider_at(team_with_roles, server)
        await async_client.aforce_login(team_with_roles.users["admin"])
        response = await generate(async_client, team_with_roles, provider)
        assert [request[0].split(" ")[:2] for request in server.requests] == [["POST", "/v1/images/generations"]]
    assert "No picture this time. The picture could not be kept: The provider's address" in said(response)
    assert REFUSED in said(response)
    assert not await GeneratedImage.objects.aexists()
    assert network.attempts == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:99999/v1/files/1.png", "http://169.254.169.254:99999/", "http://[::1/files/1.png"]
)
async def test_an_image_address_that_is_not_a_valid_url_is_refused_in_the_result(
    async_client, team_with_roles, network, media, url
):
    """A port out of range or an unclosed bracket is the provider's mistake, told as such,
    not a failed page."""
    async with RawServer(images_reply({"url": url})) as server:
        network.allow(server.url)
        provider = await provider_at(team_with_roles, server)
        await async_client.aforce_login(team_with_roles.users["admin"])
        response = await generate(async_client, team_with_roles, provider)
        assert len(server.requests) == 1
    assert "The picture could not be kept: The file's address is not a valid URL." in said(response)
    assert network.attempts == []


@pytest.mark.django_db(transaction=True)
async def test_an_image_at_the_allowed_providers_own_address_is_kept(async_client, team_with_roles, network, media):
    async with RawServer(Reply(headers={"Content-Type": "image/png"}, parts=[(0, png_bytes())])) as server:
        network.allow(server.url)
        server.replies.insert(0, images_reply({"url": f"{server.url}/files/1.png"}))
        provider = await provider_at(team_with_roles, server)
        await async_client.aforce_login(team_with_roles.users["admin"])
        await generate(async_client, team_with_roles, provider)
        assert [request[0].split(" ")[:2] for request in server.requests][1] == ["GET", "/v1/files/1.png"]
    assert (await GeneratedImage.objects.aget()).width == 64
    assert network.attempts == []
