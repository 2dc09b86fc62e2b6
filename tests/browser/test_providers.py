"""An admin sets up a provider in a real browser: add it, add and test a key, see models and a form."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from playground.accounts.models import Role
from playground.demo.keys import demo_key
from tests.factories import MembershipFactory

PASSWORD = "correct-horse-battery-71"


def test_admin_adds_a_demo_provider_tests_a_key_and_opens_a_schema_form(
    page, sign_in, live_server_url, django_user_model
):
    admin = django_user_model.objects.create_user("ada", password=PASSWORD, is_staff=True)
    team = MembershipFactory(user=admin, role=Role.ADMIN, team__name="Acme").team
    sign_in("ada", PASSWORD)

    page.goto(f"/teams/{team.pk}/")
    page.get_by_role("navigation", name="Team").get_by_role("link", name="Providers").click()
    page.get_by_label("Provider name").fill("Local demo")
    page.get_by_label("Base URL").fill(f"{live_server_url}/demo/v1")
    page.get_by_label("Profile").select_option(label="Built-in demo")
    page.get_by_label("May reach the local network").check()
    page.get_by_role("button", name="Add provider").click()
    expect(page.get_by_role("heading", name="Local demo", level=1)).to_be_visible()

    # The demo answers only keys this installation minted (as its Demo provider has).
    key = demo_key("browser")
    page.get_by_label("API key").fill(key)
    page.get_by_label("Share with the team").check()
    page.get_by_role("button", name="Save key").click()
    expect(page.get_by_role("status").filter(has_text=f"Key ••••{key[-4:]} saved")).to_be_visible()
    assert key not in page.content()

    page.get_by_role("button", name=f"Test key ••••{key[-4:]}").click()
    expect(page.get_by_role("status").filter(has_text="The key works")).to_be_visible()
    models = page.locator("#models")
    expect(models.get_by_text("demo-chat", exact=True)).to_be_visible()

    page.get_by_role("link", name="Chat parameters").click()
    temperature = page.get_by_label("temperature", exact=True)
    expect(temperature).to_have_attribute("max", "2")
    expect(temperature).to_have_attribute("min", "0")
    slider = page.get_by_role("slider", name="temperature slider")
    slider.fill("1.5")
    expect(temperature).to_have_value(re.compile(r"^1\.50?$"))
    page.get_by_label("model", exact=True).fill("demo-chat")
    page.get_by_role("button", name="Build request").click()
    request = page.locator("#request")
    expect(request).to_contain_text('"temperature": 1.5')
    expect(request).to_contain_text("LOCAL_DEMO_API_KEY")
    assert "sk-browser-test-key-7788" not in page.content()
    assert page.csp_violations == []


def test_provider_pages_are_usable_by_keyboard_with_labelled_controls(
    page, sign_in, live_server_url, django_user_model
):
    from tests.browser.accessibility import keyboard_problems
    from tests.factories import SHARED_KEY, ApiKeyFactory, ProviderFactory

    admin = django_user_model.objects.create_user("ada", password=PASSWORD, is_staff=True)
    team = MembershipFactory(user=admin, role=Role.OWNER, team__name="Acme").team
    provider = ProviderFactory(
        team=team, name="Demo", base_url=f"{live_server_url}/demo/v1", profile="demo", allow_local=True
    )
    ApiKeyFactory(provider=provider, owner=None, plain=SHARED_KEY)
    sign_in("ada", PASSWORD)
    for path in [
        f"/teams/{team.pk}/providers/",
        f"/providers/{provider.pk}/",
        f"/providers/{provider.pk}/edit/",
        f"/providers/{provider.pk}/delete/",
        f"/providers/{provider.pk}/parameters/chat/",
        f"/providers/{provider.pk}/parameters/images/",
    ]:
        page.goto(path)
        assert keyboard_problems(page) == {}, path
    assert page.csp_violations == []
