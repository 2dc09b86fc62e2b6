"""Changes to teams, memberships and projects, with the rules that keep a team usable.

Views check who may call these (through the scoping helper); these functions enforce the
rules that hold whoever calls them, such as a team always keeping an owner.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from playground.accounts.models import Membership, Project, Role, Team
from playground.audit.models import Action
from playground.audit.services import audit_record


def team_create(*, user, name: str) -> Team:
    with transaction.atomic():
        team = Team.objects.create(name=name.strip())
        Membership.objects.create(team=team, user=user, role=Role.OWNER)
    return team


def _audit_member(action: Action, membership: Membership, by_user, before=None, after=None) -> None:
    label = f"{membership.user.get_username()} in {membership.team.name}"
    audit_record(
        actor=by_user, action=action, obj=membership, team=membership.team, label=label, before=before, after=after
    )


def member_add(*, team: Team, by_user, by_role: Role, identifier: str, role: Role | str) -> Membership:
    """Add an existing user, found by username or email, to `team`."""
    role = Role(role)
    if role == Role.OWNER and by_role != Role.OWNER:
        raise ValidationError("Only an owner can add another owner.")
    identifier = identifier.strip()
    users = get_user_model().objects.filter(Q(username__iexact=identifier) | Q(email__iexact=identifier))
    users = list(users.filter(is_active=True)[:2])
    if not users:
        raise ValidationError(f"No user has the username or email “{identifier}”.")
    if len(users) > 1:
        raise ValidationError("More than one user matches that email; use the username.")
    try:
        with transaction.atomic():
            membership = Membership.objects.create(team=team, user=users[0], role=role)
            _audit_member(Action.MEMBER_ADD, membership, by_user, after={"user": users[0].get_username(), "role": role})
            return membership
    except IntegrityError:
        raise ValidationError(f"{users[0].username} is already a member of {team.name}.") from None


def _other_owners(membership: Membership) -> int:
    return Membership.objects.filter(team_id=membership.team_id, role=Role.OWNER).exclude(pk=membership.pk).count()


def member_set_role(*, membership: Membership, by_user, by_role: Role, role: Role | str) -> Membership:
    role = Role(role)
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        before = {"user": membership.user.get_username(), "role": membership.role}
        if Role.OWNER in (role, membership.role) and by_role != Role.OWNER:
            raise ValidationError("Only an owner can make someone an owner or change an owner's role.")
        if membership.role == Role.OWNER and role != Role.OWNER and _other_owners(membership) == 0:
            raise ValidationError("A team needs at least one owner: make someone else owner first.")
        membership.role = role
        membership.save(update_fields=["role"])
        _audit_member(Action.MEMBER_ROLE, membership, by_user, before=before, after={**before, "role": role})
    return membership


def member_remove(*, membership: Membership, by_user, by_role: Role) -> None:
    """Remove a member; anyone may leave, admins may remove others, only owners remove owners."""
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        leaving = membership.user_id == by_user.pk
        if not leaving and not by_role.at_least(Role.ADMIN):
            raise ValidationError("Only admins and owners can remove members.")
        if membership.role == Role.OWNER and not leaving and by_role != Role.OWNER:
            raise ValidationError("Only an owner can remove an owner.")
        if membership.role == Role.OWNER and _other_owners(membership) == 0:
            raise ValidationError("A team needs at least one owner: make someone else owner first.")
        before = {"user": membership.user.get_username(), "role": membership.role}
        _audit_member(Action.MEMBER_REMOVE, membership, by_user, before=before)
        membership.delete()


def team_delete(*, team: Team) -> None:
    team.delete()


def project_create(*, team: Team, name: str) -> Project:
    name = name.strip()
    try:
        with transaction.atomic():
            return Project.objects.create(team=team, name=name)
    except IntegrityError:
        raise ValidationError(f"{team.name} already has a project named “{name}”.") from None


def project_rename(*, project: Project, name: str) -> Project:
    name = name.strip()
    if Project.objects.filter(team_id=project.team_id, name=name).exclude(pk=project.pk).exists():
        raise ValidationError(f"{project.team.name} already has a project named “{name}”.")
    project.name = name
    project.save(update_fields=["name"])
    return project


def project_set_archived(*, project: Project, archived: bool) -> Project:
    project.archived_at = timezone.now() if archived else None
    project.save(update_fields=["archived_at"])
    return project


def project_delete(*, project: Project) -> None:
    project.delete()


def project_remember(*, user, project: Project) -> None:
    """Remember `project` as the user's current one, for the switcher and the home page."""
    if user.current_project_id != project.pk:
        user.current_project = project
        user.save(update_fields=["current_project"])
