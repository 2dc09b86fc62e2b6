"""The expectation every permission-matrix test checks, in one place."""

from __future__ import annotations

from django.urls import reverse

from playground.accounts.models import Role

ACTORS = ["anonymous", "nonmember", "viewer", "member", "admin", "owner"]


def assert_access(response, actor: str, lowest_role: Role) -> None:
    """Anonymous: sent to sign in. Non-member: 404. Too low a role: 403. Otherwise: the page or a redirect."""
    if actor == "anonymous":
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
    elif actor == "nonmember":
        assert response.status_code == 404
    elif not Role(actor).at_least(lowest_role):
        assert response.status_code == 403
    else:
        assert response.status_code in (200, 302), response.content[:800]
        if response.status_code == 302:
            assert not response.url.startswith(reverse("login"))
