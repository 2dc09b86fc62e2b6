"""The one door to objects a team owns.

Every view, websocket consumer, download and export reaches a team's object through
`scoped_get` (or a ScopedQuery, the same query compiled once, for the lookups the chat
waits for): a person who is not a member of the owning team gets 404 (the object's
existence is not revealed), a member whose role is too low gets 403.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import F, Model, OuterRef, QuerySet, Subquery
from django.http import Http404

from playground.accounts.models import Membership, Project, Role, Team
from playground.rows import Columns

M = TypeVar("M", bound=Model)


def scoped_get(
    user,
    queryset: QuerySet[M] | type[M],
    *,
    role: Role | str = Role.VIEWER,
    team_field: str = "team",
    **lookup,
) -> M:
    """Fetch one object of a team `user` belongs to, with at least `role` in that team.

    `team_field` is the path from the object to its team ("team", "project__team", or "pk"
    for a Team itself). The object comes back with `member_role`, the user's Role there.
    """
    if not getattr(user, "is_authenticated", False):
        raise Http404
    if isinstance(queryset, type):
        queryset = queryset._default_manager.all()
    # The user's membership is joined, and the annotation follows the filter on it, so it
    # reuses that join and reads the user's own role. (A subquery per row compiled to as
    # much again as the rest of the query.)
    memberships = "memberships" if team_field == "pk" else f"{team_field}__memberships"
    mine = queryset.filter(**{f"{memberships}__user": user})
    found = mine.annotate(member_role=F(f"{memberships}__role")).filter(**lookup)
    # No ordering: lookups name one object, and compiling an ORDER BY was a third of the cost
    # of this query, which runs on every page, socket connect and chat action.
    obj = next(iter(found.order_by()[:1]), None)
    if obj is None:
        raise Http404
    return _with_role(obj, obj.member_role, role)


def _with_role(obj: M, member_role: str, role: Role | str) -> M:
    obj.member_role = Role(member_role)
    if not obj.member_role.at_least(role):
        raise PermissionDenied(f"This needs the {Role(role).label.lower()} role in the team.")
    return obj


# Stand-ins for the user's and the object's ids while a ScopedQuery's SQL is compiled: the
# parameters they become mark where each id goes.
_USER_MARK, _PK_MARK = -7_000_000_001, -7_000_000_002


class ScopedQuery(Generic[M]):
    """scoped_get of one kind of object by id, with the related objects its callers need,
    the query compiled once rather than on every call.

    For the lookups that every chat socket's connect and action waits for, where the ORM's
    building of the query is most of its cost under load (bench: relay_ttft_overhead; tests:
    tests/accounts/test_scoped_query.py). The SQL is still the
    ORM's (the same membership join, compiled with stand-ins for the two ids) and the rows
    become instances as the ORM makes them; `related` are select_related paths.
    """

    def __init__(self, model: type[M], *, team_field: str = "team", related: tuple[str, ...] = ()) -> None:
        self.model = model
        self.memberships = "memberships" if team_field == "pk" else f"{team_field}__memberships"
        self.columns = Columns(model)
        # "project__team" brings the project and its team: each object on the way, parents first.
        steps = [path.split("__") for path in related]
        paths = {"__".join(parts[:n]) for parts in steps for n in range(1, len(parts) + 1)}
        # Each related object: its path, the path of the object it hangs from, the field there.
        self.related: list[tuple[str, str, str, Columns]] = []
        for path in sorted(paths, key=lambda path: path.count("__")):
            parent, _, name = path.rpartition("__")
            field = self._model_at(parent)._meta.get_field(name)
            self.related.append((path, parent, name, Columns(field.related_model)))
        self._compiled: dict[str, tuple[str, list[bool]]] = {}  # by database vendor

    def _model_at(self, path: str) -> type[Model]:
        model = self.model
        for name in filter(None, path.split("__")):
            model = model._meta.get_field(name).related_model
        return model

    def _sql(self) -> tuple[str, list[bool]]:
        """The SQL, and for each of its parameters whether it is the user's id (else the object's)."""
        found = self._compiled.get(connection.vendor)
        if found is None:
            names = [field.attname for field in self.columns.fields]
            for path, _, _, columns in self.related:
                names += [f"{path}__{field.attname}" for field in columns.fields]
            names.append(f"{self.memberships}__role")
            queryset = self.model._default_manager.filter(**{f"{self.memberships}__user_id": _USER_MARK}, pk=_PK_MARK)
            sql, params = queryset.order_by().values_list(*names).query.sql_with_params()
            if sorted(params) != sorted([_USER_MARK, _PK_MARK]):
                raise AssertionError(f"Unexpected parameters compiling the scoped query: {params}")
            found = self._compiled[connection.vendor] = (sql, [param == _USER_MARK for param in params])
        return found

    def get(self, user, pk: int, *, role: Role | str = Role.VIEWER) -> M:
        """As scoped_get(user, queryset, role=role, team_field=..., pk=pk): 404 for a
        non-member, 403 below `role`; the object comes back with `member_role`."""
        if not getattr(user, "is_authenticated", False):
            raise Http404
        sql, user_at = self._sql()
        pk = self.model._meta.pk.get_prep_value(pk)
        with connection.cursor() as cursor:
            cursor.execute(sql, [user.pk if is_user else pk for is_user in user_at])
            row = cursor.fetchone()
        if row is None:
            raise Http404
        return _with_role(self._build(row), row[-1], role)

    def _build(self, row: tuple) -> M:
        start = len(self.columns)
        obj = self.columns.build(row[:start])
        objects: dict[str, Model | None] = {"": obj}
        for path, parent, name, columns in self.related:
            values = row[start : start + len(columns)]
            start += len(columns)
            owner = objects.get(parent)
            if owner is None:
                continue
            objects[path] = columns.build(values) if values[columns.pk_index] is not None else None
            setattr(owner, name, objects[path])
        return obj


def team_for(user, team_id: int, *, role: Role | str = Role.VIEWER) -> Team:
    return scoped_get(user, Team, role=role, team_field="pk", pk=team_id)


def project_for(user, project_id: int, *, role: Role | str = Role.VIEWER) -> Project:
    return scoped_get(user, Project.objects.select_related("team"), role=role, pk=project_id)


def teams_of(user) -> QuerySet[Team]:
    """The teams `user` belongs to (each with `member_role`)."""
    role_in_team = Membership.objects.filter(team=OuterRef("pk"), user=user).values("role")[:1]
    return Team.objects.annotate(member_role=Subquery(role_in_team)).filter(member_role__isnull=False)


def projects_of(user) -> QuerySet[Project]:
    """The projects of every team `user` belongs to."""
    return Project.objects.filter(team__memberships__user=user).select_related("team")
