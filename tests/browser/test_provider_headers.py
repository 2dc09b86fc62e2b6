"""static/js/provider_form.js in Chromium: the provider form shows the chosen profile's headers."""

from __future__ import annotations

from playwright.sync_api import expect

from playground.accounts.models import Role
from tests.factories import MembershipFactory

PASSWORD = "correct-horse-battery-71"


def test_choosing_jamai_offers_its_headers_and_they_are_saved_masked(page, sign_in, django_user_model):
    admin = django_user_model.objects.create_user("ada", password=PASSWORD)
    team = MembershipFactory(user=admin, role=Role.ADMIN, team__name="Acme").team
    sign_in("ada", PASSWORD)

    page.goto(f"/teams/{team.pk}/providers/")
    project_id = page.get_by_label("X-PROJECT-ID")
    expect(project_id).to_be_hidden()  # the profile chosen first is OpenAI's, which has none
    page.get_by_label("Provider name").fill("JamAI")
    page.get_by_label("Base URL").fill("https://api.jamaibase.com")
    page.get_by_label("Profile").select_option(label="JamAI Base")
    expect(page.get_by_role("group", name="Headers for the JamAI Base profile")).to_be_visible()
    project_id.fill("proj_0a1b2c3d4e5f6789")
    page.get_by_role("button", name="Add provider").click()

    expect(page.get_by_role("heading", name="JamAI", level=1)).to_be_visible()
    expect(page.get_by_text("••••6789")).to_be_visible()
    assert "proj_0a1b2c3d4e5f6789" not in page.content()
    page.get_by_role("link", name="Edit provider").click()
    box = page.get_by_role("textbox", name="X-PROJECT-ID")
    expect(box).to_be_visible()
    expect(box).to_have_value("")
    expect(page.get_by_label("Remove the stored X-PROJECT-ID")).to_be_visible()
    page.get_by_label("Profile").select_option(label="OpenAI")
    expect(box).to_be_hidden()
    assert page.csp_violations == []
