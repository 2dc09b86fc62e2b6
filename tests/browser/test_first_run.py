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
    expect(page.get_by_role("status").filter(has_text="Your password has been changed.")).to_be_visible()
    # The bootstrap made a demo project current, so home is that project's chat, ready to type in.
    expect(page.get_by_role("link", name="Conversations of Demo project")).to_be_visible()
    expect(page.get_by_label("Message", exact=True)).to_be_visible()

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
    # Remembered: the home page opens the chat of the project chosen last.
    page.goto("/")
    expect(page.get_by_role("link", name="Conversations of Demo project")).to_be_visible()
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


def test_an_owner_changes_a_role_in_place_and_the_notice_arrives(page, sign_in, django_user_model):
    """The members table swaps by htmx inside a page whose user-supplied text is hx-disable,
    and the notice lands in the (hx-disable) notices region out of band."""
    from playground.accounts.models import Membership, Role
    from tests.factories import MembershipFactory

    owner = django_user_model.objects.create_user("ada", password=NEW_PASSWORD)
    team = MembershipFactory(user=owner, role=Role.OWNER, team__name="Ops").team
    # A username that would be an htmx request if it were ever read as markup.
    grace = django_user_model.objects.create_user('grace<b hx-get="/pwn" hx-trigger="load">', password=NEW_PASSWORD)
    MembershipFactory(user=grace, team=team, role=Role.VIEWER)
    pwned = []
    page.route("**/pwn**", lambda route: (pwned.append(route.request.url), route.abort()))
    sign_in("ada", NEW_PASSWORD)
    page.goto(f"/teams/{team.pk}/members/")
    page.evaluate("window.sameDocument = true")
    page.get_by_label(f"Role of {grace.username}").select_option(label="Member")
    page.get_by_role("button", name=f"Change role of {grace.username}").click()
    expect(page.locator("#notices")).to_contain_text("now")
    expect(page.get_by_label(f"Role of {grace.username}")).to_have_value("member")
    assert page.evaluate("window.sameDocument") is True  # swapped in place, not a new page
    assert Membership.objects.get(user=grace).role == Role.MEMBER
    assert pwned == [] and page.csp_violations == []
