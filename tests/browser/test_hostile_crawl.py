"""Hostile content, crawled in Chromium: every text a user or an upstream can set holds HTML,
htmx attributes, template syntax and markdown links (tests/urlmap.py's seed), and every page
is opened as each role and as staff, as the security review attacked the prompt page.

On every page: no element the payloads make (class pwn-…, event handlers, javascript: links),
no request to /pwn/, no dialog, no Content-Security-Policy violation, no server error. A few
key pages must also show the hostile text, as text."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from tests.urlmap import ROUTES, World, page_urls, reflected_urls, seed_world

TEAM_ROLES = ("owner", "admin", "member", "viewer")

# Elements the payloads would make, found in the live DOM (after the browser parsed the page
# and htmx processed it). Links are judged by where they lead, not by their text: a link may
# carry hostile text, URL-encoded, in its query string.
HOSTILE_ELEMENTS_JS = """
() => {
  const found = [];
  const show = (element) => element.outerHTML.slice(0, 200);
  const leadsToPwn = (value) => {
    try { return new URL(value, document.baseURI).pathname.startsWith("/pwn/"); } catch { return false; }
  };
  for (const element of document.querySelectorAll("*")) {
    if ((element.getAttribute("class") || "").includes("pwn-")) found.push("pwn element: " + show(element));
    for (const { name, value } of element.attributes) {
      if (name.startsWith("on")) found.push(`event handler ${name}: ` + show(element));
      else if (/^(data-)?hx-/.test(name) && value.includes("/pwn/")) found.push(`htmx ${name}: ` + show(element));
      else if (["href", "src", "action", "formaction"].includes(name)
               && (/^\\s*javascript:/i.test(value) || leadsToPwn(value)))
        found.push(`${name}: ` + show(element));
      else if ((name === "srcdoc" || element.tagName === "META") && value.includes("/pwn/"))
        found.push(`${name}: ` + show(element));
    }
    if (["SCRIPT", "STYLE"].includes(element.tagName) && element.textContent.includes("/pwn/"))
      found.push("inline code: " + show(element));
  }
  return found;
}
"""
# htmx marks an element sending a request with this class; the crawl waits until none is.
HTMX_IDLE_JS = "() => document.readyState === 'complete' && !document.querySelector('.htmx-request')"


@pytest.fixture
def hostile(team_with_roles, transactional_db) -> World:
    """Acme seeded with hostile objects of every kind (its people's current project set), and
    as `.other` the outsider's team, hostile too (staff see both)."""
    users = team_with_roles.users
    world = seed_world(team_with_roles.team, {role: users[role] for role in TEAM_ROLES}, prefix="a")
    outsider = users["nonmember"]
    world.other = seed_world(outsider.memberships.get().team, {"owner": outsider}, prefix="o")
    for user in world.users.values():
        user.current_project = world.project
        user.save(update_fields=["current_project"])
    return world


class Crawler:
    """One browser context signed in as one person, noting everything hostile each page did."""

    def __init__(self, page, server_url: str, user, world: World) -> None:
        self.page, self.marks = page, [world.marks, world.other.marks]
        # What happened, in order; each check looks at what came after the previous one.
        self.events = {"CSP": page.csp_violations, "requested": [], "dialog": [], "server error": []}
        self.seen = dict.fromkeys(self.events, 0)
        self.problems: dict[str, list[str]] = {}
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": server_url}])
        page.context.route("**/pwn/**", self._refuse)
        page.on("dialog", self._dismiss)
        page.on("response", self._note_error)

    def _refuse(self, route) -> None:
        self.events["requested"].append(route.request.url)
        route.abort()

    def _dismiss(self, dialog) -> None:
        self.events["dialog"].append(dialog.message)
        dialog.dismiss()

    def _note_error(self, response) -> None:
        if response.status >= 500:
            self.events["server error"].append(f"{response.status} {response.request.method} {response.url}")

    def visit(self, url: str) -> None:
        self.page.goto(url, wait_until="load")
        self.check(url)

    def check(self, label: str) -> None:
        """Look for what payloads would do: in the page as it is now, and in what happened since the last check."""
        self.page.wait_for_function(HTMX_IDLE_JS)
        problems = self.page.evaluate(HOSTILE_ELEMENTS_JS)
        for kind, happened in self.events.items():
            problems += [f"{kind}: {event}" for event in happened[self.seen[kind] :]]
            self.seen[kind] = len(happened)
        if problems:
            self.problems[label] = [self._with_source(problem) for problem in problems]

    def _with_source(self, problem: str) -> str:
        """The problem, and which seeded field and payload its markers came from."""
        sources = [source for marks in self.marks for source in marks.found_in(problem)]
        return problem + "".join(f"\n        from {source}" for source in sources)

    def report(self) -> str:
        return "\n".join(f"{label}\n    " + "\n    ".join(problems) for label, problems in self.problems.items())


def app_pages(world: World) -> list[str]:
    return [url for name, route in ROUTES.items() if not route.not_page for url in page_urls(name, world)]


def admin_pages() -> list[str]:
    """The admin's index, and each registered model's changelist and first object's change page."""
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        opts = model._meta
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk]))
    return urls


@pytest.mark.timeout(600)
@pytest.mark.parametrize("role", TEAM_ROLES)
def test_no_page_runs_hostile_content_for_a_team_member(page, live_server_url, hostile, role):
    crawler = Crawler(page, live_server_url, hostile.users[role], hostile)
    for url in app_pages(hostile):
        crawler.visit(url)
    assert not crawler.problems, crawler.report()


@pytest.mark.timeout(900)  # every page and admin page, one after another: minutes on a loaded machine
def test_no_page_nor_admin_page_runs_hostile_content_for_staff(page, live_server_url, hostile, django_user_model):
    staff = django_user_model.objects.create_superuser(
        hostile.marks.text("staff username", 150), "", "x-long-password-1"
    )
    crawler = Crawler(page, live_server_url, staff, hostile)
    for url in app_pages(hostile) + admin_pages():
        crawler.visit(url)
    assert not crawler.problems, crawler.report()


def test_hostile_query_strings_run_nothing(page, live_server_url, hostile):
    """A link with hostile text in every parameter a page reads, opened by the team's owner."""
    crawler = Crawler(page, live_server_url, hostile.users["owner"], hostile)
    for url in reflected_urls(hostile):
        crawler.visit(url)
    assert not crawler.problems, crawler.report()


def test_hostile_values_sent_back_by_forms_run_nothing(page, live_server_url, hostile):
    """Pages made by a POST or an htmx swap: a built request with its code snippets, the Run
    page's live preview of typed values, the version editor shown again with its texts."""
    crawler = Crawler(page, live_server_url, hostile.users["owner"], hostile)
    ids, typed = hostile.ids, hostile.marks.text("typed into forms")
    for endpoint in ids["endpoint"]:
        crawler.visit(reverse("parameters", args=[ids["provider"], endpoint]))
        page.locator("summary").filter(has_text="Advanced").click()
        page.get_by_label("style", exact=True).fill(typed)
        with page.expect_navigation():
            page.get_by_role("button", name="Build request").click()
        # Shown as text inside the request body's JSON, its quotes escaped as JSON writes them.
        shown = json.dumps(hostile.marks.pieces["typed into forms"][0], ensure_ascii=False)[1:-1]
        expect(page.locator("#request")).to_contain_text(shown)
        crawler.check(f"{endpoint} parameters: request built, with its code")

    crawler.visit(reverse("version_run", args=[ids["prompt"], 2]))
    page.get_by_label("{{topic}}").fill(typed)
    expect(page.locator("#preview")).to_contain_text(hostile.marks.pieces["typed into forms"][0])
    crawler.check("Run page: typed values previewed by htmx")
    with page.expect_navigation():
        page.get_by_role("button", name="Preview").click()
    crawler.check("Run page: preview posted")

    crawler.visit(reverse("version_create", args=[ids["prompt"]]))
    with page.expect_navigation():
        page.get_by_role("button", name="Add a message").click()
    crawler.check("version editor: shown again with a message added")
    assert not crawler.problems, crawler.report()


def shown(page, text: str) -> None:
    """`text` appears in the page's main content as text, visibly."""
    expect(page.locator("main").get_by_text(text).filter(visible=True).first).to_be_visible()


def test_hostile_text_is_shown_as_text(page, live_server_url, hostile):
    marks, ids = hostile.marks, hostile.ids
    Crawler(page, live_server_url, hostile.users["owner"], hostile)

    # The review's sink: a variable's description as the help text of its box on the Run page.
    page.goto(reverse("version_run", args=[ids["prompt"], 2]))
    for piece in marks.pieces["PromptVersion.variables topic description"]:
        expect(page.locator(".helptext").filter(has_text=piece)).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text(marks.texts["Prompt.name"])

    page.goto(reverse("conversation_detail", args=[ids["conversation"]]))
    for piece in marks.pieces["Message.content (question)"]:
        shown(page, piece)

    page.goto(reverse("parameters", args=[ids["provider"], "chat"]))
    page.locator("summary").filter(has_text="Advanced").click()
    shown(page, f"Default: {marks.texts['uploaded schema.chat.style.default']}")

    page.goto(reverse("team_detail", args=[ids["team"]]))
    expect(page.get_by_role("heading", level=1)).to_contain_text(marks.texts["Team.name"])

    page.goto(reverse("audit_list"))
    shown(page, marks.texts["AuditEntry.object_label"])
