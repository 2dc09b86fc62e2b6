"""Browser tests: the app served by Daphne in a child process, driven by Debian's Chromium.

The server is an ASGI live server (Channels' DaphneProcess, as ChannelsLiveServerTestCase
uses), so websockets work as in production. It shares the test database, which is why
SQLite's test database is a file (tests/settings.py) and tests use `transactional_db`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
from channels.testing.live import make_application
from daphne.testing import DaphneProcess
from django.db import connections
from playwright.sync_api import expect

from tests.services import CHROMIUM, require

PASSWORD = "correct-horse-battery-71"


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def fresh_process_state() -> None:
    """In the forked server: forget what earlier tests left in this process's memory.

    Channel layers, upstream clients and live generations were made on the test process's
    own (now closed) event loops and would not work on the server's loop.
    """
    from concurrent.futures import ThreadPoolExecutor

    from asgiref.sync import SyncToAsync
    from channels.layers import channel_layers

    from playground.chat import consumers, generation, hub
    from playground.upstream import client

    channel_layers.backends.clear()
    # asgiref's thread for database work was a thread of the parent; forking leaves its
    # executor believing a worker is idle when none exists, so work queued there never ran.
    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)
    client._clients.clear()
    consumers._buckets.clear()
    generation.LIVE.clear()
    hub._listeners.clear()


@pytest.fixture(scope="session")
def live_server_url(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        # The child is forked: it must not inherit open database connections.
        connections.close_all()
        server = DaphneProcess("127.0.0.1", partial(make_application, static_wrapper=None), setup=fresh_process_state)
        server.start()
    if not server.ready.wait(timeout=30):
        server.terminate()
        raise RuntimeError("The Daphne test server did not start within 30 s")
    yield f"http://127.0.0.1:{server.port.value}"
    server.terminate()
    server.join(timeout=10)


@pytest.fixture(scope="session")
def browser(django_db_setup):  # the test database is made before Playwright's loop runs here
    require("chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def orm_beside_playwright(monkeypatch):
    """Playwright's sync API runs its own event loop in this thread, so Django's guard
    against database calls from async code would refuse these tests' own ORM calls; it is
    lifted for browser tests only, test by test."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


expect.set_options(timeout=15_000)  # likewise for expect(): an upper bound on a condition


@pytest.fixture
def page(browser, live_server_url, transactional_db):
    context = browser.new_context(base_url=live_server_url)
    page = context.new_page()
    # Upper bounds for conditions, never waits: a page under load (both cores busy) may take seconds.
    page.set_default_timeout(30_000)
    page.csp_violations = []

    def note_csp_violation(message):
        if "Content Security Policy" in message.text:
            page.csp_violations.append(message.text)

    page.on("console", note_csp_violation)
    yield page
    context.close()


@pytest.fixture
def sign_in(page):
    def sign_in_as(username: str, password: str):
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()

    return sign_in_as


@dataclass
class Acme:
    """A member of team Acme (password PASSWORD) whose current project is "Launch", with a
    "Demo" provider pointing at the live server's own demo upstream (shared key)."""

    user: Any
    team: Any
    project: Any
    provider: Any


@pytest.fixture
def acme(django_user_model, live_server_url, transactional_db) -> Acme:
    from playground.accounts.models import Role
    from tests.factories import SHARED_KEY, ApiKeyFactory, MembershipFactory, ProjectFactory, ProviderFactory

    user = django_user_model.objects.create_user("ada", password=PASSWORD)
    team = MembershipFactory(user=user, role=Role.MEMBER, team__name="Acme").team
    provider = ProviderFactory(
        team=team,
        name="Demo",
        base_url=f"{live_server_url}/demo/v1",
        profile="demo",
        allow_local=True,
        default_model="demo-chat",
    )
    ApiKeyFactory(provider=provider, owner=None, plain=SHARED_KEY)
    project = ProjectFactory(team=team, name="Launch")
    user.current_project = project
    user.save(update_fields=["current_project"])
    return Acme(user=user, team=team, project=project, provider=provider)
