"""A new installation as its first administrator meets it, in a real browser."""

from __future__ import annotations

import re
from io import StringIO

from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.accessibility import keyboard_problems

NEW_PASSWORD = "correct-horse-battery-71"


def bootstrap_password() -> str:
    out = StringIO()
    call_command("bootstrap", stdout=out)
    return re.search(r"password: (\S+)", out.getvalue()).group(1)


def test_first_admin_signs_in_sets_a_password_and_creates_a_team_and_project(page, sign_in):
    one_time = bootstrap_password()
    sign_in("admin", one_time)

    expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
    page.get_by_label("Old password").fill(one_time)
    page.get_by_label(re.compile(r"^New password:?$")).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password has been changed.")
    # The bootstrap made a demo project current, so home is that project.
    expect(page.get_by_role("heading", name="Demo project")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Teams").click()
    page.get_by_label("Team name").fill("Research")
    page.get_by_role("button", name="Create team").click()
    expect(page.get_by_role("heading", name="Research", level=1)).to_be_visible()
    expect(page.get_by_text("Your role: Owner")).to_be_visible()

    page.get_by_label("Project name").fill("Retrieval tests")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", name="Retrieval tests")).to_be_visible()

    switcher = page.get_by_label("Project", exact=True)
    expect(switcher).to_have_value(re.compile(r"\d+"))
    switcher.select_option(label="Demo project")
    page.get_by_role("button", name="Switch").click()
    expect(page.get_by_role("heading", name="Demo project")).to_be_visible()
    # Remembered: the home page opens the project chosen last.
    page.goto("/")
    expect(page.get_by_role("heading", name="Demo project")).to_be_visible()
    assert page.csp_violations == []


def test_notices_can_be_dismissed(page, sign_in, django_user_model):
    django_user_model.objects.create_user("ada", password=NEW_PASSWORD)
    sign_in("ada", NEW_PASSWORD)
    page.get_by_label("Team name").fill("Ops")
    page.get_by_role("button", name="Create team").click()
    notice = page.get_by_role("status").filter(has_text="Team “Ops” created")
    expect(notice).to_be_visible()
    notice.get_by_role("button", name="Dismiss notice").click()
    expect(notice).to_have_count(0)


def test_every_page_is_usable_by_keyboard_with_labelled_controls(page, sign_in, django_user_model):
    from playground.accounts.models import Role
    from tests.factories import MembershipFactory, ProjectFactory

    owner = django_user_model.objects.create_user("ada", password=NEW_PASSWORD)
    membership = MembershipFactory(user=owner, role=Role.OWNER, team__name="Acme")
    MembershipFactory(team=membership.team, role=Role.MEMBER)
    project = ProjectFactory(team=membership.team, name="Launch")
    team = membership.team

    page.goto("/accounts/login/")
    assert keyboard_problems(page) == {}
    sign_in("ada", NEW_PASSWORD)
    for path in [
        "/teams/",
        f"/teams/{team.pk}/",
        f"/teams/{team.pk}/members/",
        f"/teams/{team.pk}/delete/",
        f"/projects/{project.pk}/",
        f"/projects/{project.pk}/delete/",
        "/accounts/password/",
    ]:
        page.goto(path)
        assert keyboard_problems(page) == {}, path
    assert page.csp_violations == []
