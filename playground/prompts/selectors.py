"""Reading prompts: every read of a prompt goes through `prompt_for` or `prompts_of`.

Both reach the team through the scoping helper (non-members 404, too low a role 403) and
hide other people's private prompts as if they did not exist (404, even to team admins).
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from playground.accounts.models import Role, Team
from playground.accounts.scoping import scoped_get
from playground.prompts.models import (
    UNDO_DAYS,
    CompareRun,
    Prompt,
    PromptSettings,
    PromptTag,
    PromptVersion,
    Visibility,
)

SORTS = {"changed": "Recently changed", "used": "Recently used", "name": "Name"}


def _readable_by(user) -> Q:
    """Prompts `user` may see within their teams: shared ones and their own private ones."""
    return Q(visibility=Visibility.TEAM) | Q(owner=user)


def prompt_for(user, prompt_id: int, *, role: Role = Role.VIEWER, deleted: bool = False) -> Prompt:
    """One prompt of a team `user` belongs to (with `member_role`), or 404/403.

    `deleted=True` finds a prompt in the undo list instead (deleted less than 30 days ago).
    """
    if not getattr(user, "is_authenticated", False):
        raise Http404
    queryset = Prompt.objects.select_related("team", "owner", "current_version").filter(_readable_by(user))
    if deleted:
        queryset = queryset.filter(deleted_at__gte=timezone.now() - timedelta(days=UNDO_DAYS))
    else:
        queryset = queryset.filter(deleted_at__isnull=True)
    return scoped_get(user, queryset, role=role, pk=prompt_id)


def prompts_of(team: Team, user) -> QuerySet[Prompt]:
    """The prompts of `team` that `user` can see (the caller has scoped `team`)."""
    return Prompt.objects.filter(team=team, deleted_at__isnull=True).filter(_readable_by(user))


def version_of(prompt: Prompt, number: int) -> PromptVersion:
    return get_object_or_404(prompt.versions.select_related("author", "provider"), number=number)


def library(
    team: Team, user, *, search: str = "", tag: str = "", owner_id: int | None = None, sort: str = "changed"
) -> QuerySet[Prompt]:
    """The library page: `search` matches names, descriptions, tags and the current version's text."""
    prompts = prompts_of(team, user).select_related("owner", "current_version").prefetch_related("tags")
    search = search.strip()
    if search:
        tagged = PromptTag.objects.filter(name__icontains=search).values("prompt_id")
        prompts = prompts.filter(
            Q(name__icontains=search)
            | Q(description__icontains=search)
            | Q(pk__in=tagged)
            | Q(current_version__search_text__contains=search.lower())
        )
    if tag:
        prompts = prompts.filter(pk__in=PromptTag.objects.filter(name=tag).values("prompt_id"))
    if owner_id:
        prompts = prompts.filter(owner_id=owner_id)
    prompts = prompts.annotate(version_count=Count("versions"))
    if sort == "used":
        return prompts.order_by(F("last_used_at").desc(nulls_last=True), "-changed_at", "-pk")
    if sort == "name":
        return prompts.order_by("name", "pk")
    return prompts.order_by("-changed_at", "-pk")


def tags_of(team: Team, user) -> list[str]:
    visible = prompts_of(team, user).values("pk")
    return list(PromptTag.objects.filter(prompt__in=visible).values_list("name", flat=True).distinct().order_by("name"))


def owners_of(team: Team, user) -> QuerySet:
    visible = prompts_of(team, user).values("owner_id")
    return get_user_model().objects.filter(pk__in=visible).order_by("username")


def deleted_prompts(team: Team, user) -> QuerySet[Prompt]:
    """The undo list: prompts deleted less than 30 days ago, newest first."""
    since = timezone.now() - timedelta(days=UNDO_DAYS)
    return (
        Prompt.objects.filter(team=team, deleted_at__gte=since)
        .filter(_readable_by(user))
        .select_related("deleted_by", "owner")
        .order_by("-deleted_at")
    )


def settings_of(team: Team) -> PromptSettings:
    """The team's prompt settings (the defaults when none were saved)."""
    return PromptSettings.objects.filter(team=team).first() or PromptSettings(team=team)


def may_run(prompt: Prompt) -> bool:
    """Members run prompts; viewers only when the team allows it. `prompt` comes from prompt_for."""
    role = Role(prompt.member_role)
    return role.at_least(Role.MEMBER) or settings_of(prompt.team).viewers_may_run


def prompt_to_run(user, prompt_id: int) -> Prompt:
    prompt = prompt_for(user, prompt_id)
    if not may_run(prompt):
        raise PermissionDenied("Viewers may not run prompts in this team; an admin can allow it.")
    return prompt


def may_change_visibility(prompt: Prompt, user) -> bool:
    return prompt.owner_id == user.pk or Role(prompt.member_role).at_least(Role.ADMIN)


def compare_run_for(user, run_id: int, *, role: Role = Role.VIEWER) -> CompareRun:
    """A compare run, readable by whoever can read its prompt."""
    if not getattr(user, "is_authenticated", False):
        raise Http404
    queryset = (
        CompareRun.objects.select_related("version__prompt__team", "project")
        .filter(version__prompt__deleted_at__isnull=True)
        .filter(Q(version__prompt__visibility=Visibility.TEAM) | Q(version__prompt__owner=user))
    )
    return scoped_get(user, queryset, role=role, team_field="version__prompt__team", pk=run_id)
