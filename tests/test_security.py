"""Headers and markup that the Content-Security-Policy relies on: no inline script or style."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse


class InlineCodeFinder(HTMLParser):
    def __init__(self):
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("<style> element")
        for name, value in attrs:
            if name == "style" or name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=...>")


def inline_code(html: str) -> list[str]:
    finder = InlineCodeFinder()
    finder.feed(html)
    return finder.problems


def test_policy_forbids_inline_script_and_style(client, db):
    policy = client.get(reverse("login")).headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"


@pytest.mark.parametrize(
    "name",
    ["team_list", "team_detail", "member_list", "team_delete", "project_detail", "project_delete", "password_change"],
)
def test_pages_have_no_inline_code(client, team_with_roles, name):
    client.force_login(team_with_roles.users["owner"])
    team, project = team_with_roles.team, team_with_roles.project
    args = [] if name in ("team_list", "password_change") else [project.pk if "project" in name else team.pk]
    response = client.get(reverse(name, args=args))
    assert response.status_code == 200
    assert inline_code(response.content.decode()) == []


def test_sign_in_page_has_no_inline_code_and_no_framing(client, db):
    response = client.get(reverse("login"))
    assert inline_code(response.content.decode()) == []
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_htmx_is_served_by_us(client, db):
    html = client.get(reverse("login")).content.decode()
    assert 'src="/static/vendor/htmx/htmx.min.js"' in html
    assert "ws.js" not in html  # the chat speaks through our own client; an unused extension is only risk
