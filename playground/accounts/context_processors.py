"""Template context for the team/project switcher in the top bar."""

from __future__ import annotations

from playground.accounts.scoping import projects_of


def switcher(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.must_change_password:
        return {}
    projects = projects_of(user).filter(archived_at__isnull=True).order_by("team__name", "team_id", "name")
    return {"switcher_projects": projects}
