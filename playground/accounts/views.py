"""Pages for signing in, teams, members and projects.

Every view that touches a team's object starts with the scoping helper, which answers 404
to non-members and 403 to members whose role is too low.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from playground.accounts import services
from playground.accounts.forms import MemberAddForm, ProjectForm, RoleForm, SwitchForm, TeamForm
from playground.accounts.models import Membership, Role
from playground.accounts.scoping import project_for, projects_of, scoped_get, team_for, teams_of


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change, which also lifts the one-time-password requirement."""

    success_url = reverse_lazy("home")

    def form_valid(self, form):
        response = super().form_valid(form)
        self.request.user.must_change_password = False
        self.request.user.save(update_fields=["must_change_password"])
        messages.success(self.request, "Your password has been changed.")
        return response


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Where sign-in leads: the chat of the current project (the one chosen last, else the
    first open project of the person's teams, remembered from now on); teams without one."""
    mine = projects_of(request.user)
    project = mine.filter(pk=request.user.current_project_id).first() if request.user.current_project_id else None
    project = project or mine.filter(archived_at__isnull=True).order_by("team__name", "name", "pk").first()
    if project is None:
        return redirect("team_list")
    services.project_remember(user=request.user, project=project)
    return redirect("conversation_start", project_id=project.pk)


@require_http_methods(["GET", "POST"])
@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        team = services.team_create(user=request.user, name=form.cleaned_data["name"])
        messages.success(request, f"Team “{team.name}” created. You are its owner.")
        return redirect("team_detail", team_id=team.pk)
    teams = teams_of(request.user).prefetch_related("projects")
    return render(request, "accounts/team_list.html", {"teams": teams, "form": form})


@require_http_methods(["GET", "POST"])
@login_required
def team_detail(request: HttpRequest, team_id: int) -> HttpResponse:
    team = team_for(request.user, team_id, role=Role.MEMBER if request.method == "POST" else Role.VIEWER)
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = services.project_create(team=team, name=form.cleaned_data["name"])
        except ValidationError as error:
            form.add_error("name", error)
        else:
            services.project_remember(user=request.user, project=project)
            messages.success(request, f"Project “{project.name}” created.")
            return redirect("project_detail", project_id=project.pk)
    projects = team.projects.all()
    return render(request, "accounts/team_detail.html", {"team": team, "projects": projects, "form": form})


@require_http_methods(["GET", "POST"])
@login_required
def team_delete(request: HttpRequest, team_id: int) -> HttpResponse:
    team = team_for(request.user, team_id, role=Role.OWNER)
    if request.method == "POST":
        services.team_delete(team=team)
        messages.success(request, f"Team “{team.name}” and its projects were deleted.")
        return redirect("team_list")
    context = {
        "what": f"team “{team.name}”",
        "consequences": "This cannot be undone. Every project of the team and everything in them will be deleted too.",
        "cancel_url": reverse("team_detail", args=[team.pk]),
    }
    return render(request, "_confirm_delete.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def member_list(request: HttpRequest, team_id: int) -> HttpResponse:
    team = team_for(request.user, team_id, role=Role.ADMIN if request.method == "POST" else Role.VIEWER)
    form = MemberAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.member_add(
                team=team, by_user=request.user, by_role=team.member_role, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error("identifier", error)
        else:
            messages.success(request, f"{membership.user.username} added as {membership.get_role_display()}.")
            return redirect("member_list", team_id=team.pk)
    return _render_members(request, team, form)


def _render_members(request: HttpRequest, team, form: MemberAddForm | None = None, status: int = 200):
    memberships = team.memberships.select_related("user").order_by("user__username")
    context = {"team": team, "memberships": memberships, "form": form or MemberAddForm(), "roles": Role.choices}
    template = "accounts/members.html#members-table" if request.htmx else "accounts/members.html"
    return render(request, template, context, status=status)


def _membership_for(user, team_id: int, membership_id: int, *, role: Role) -> Membership:
    """A membership of a team `user` belongs to; `member_role` is `user`'s own role there."""
    queryset = Membership.objects.select_related("user", "team")
    membership = scoped_get(user, queryset, role=role, team_id=team_id, pk=membership_id)
    membership.team.member_role = membership.member_role
    return membership


@require_POST
@login_required
def member_role(request: HttpRequest, team_id: int, membership_id: int) -> HttpResponse:
    membership = _membership_for(request.user, team_id, membership_id, role=Role.ADMIN)
    team, by_role = membership.team, membership.member_role
    form = RoleForm(request.POST)
    status = 200
    if not form.is_valid():
        messages.error(request, "Choose one of the listed roles.")
        status = 400
    else:
        try:
            role = form.cleaned_data["role"]
            services.member_set_role(membership=membership, by_user=request.user, by_role=by_role, role=role)
        except ValidationError as error:
            messages.error(request, _error_text(error))
            status = 400
        else:
            messages.success(request, f"{membership.user.username} is now {Role(form.cleaned_data['role']).label}.")
    if request.htmx:
        return _render_members(request, team, status=status)
    return redirect("member_list", team_id=team.pk)


@require_POST
@login_required
def member_remove(request: HttpRequest, team_id: int, membership_id: int) -> HttpResponse:
    membership = _membership_for(request.user, team_id, membership_id, role=Role.VIEWER)
    team = membership.team
    if membership.user_id != request.user.pk and not membership.member_role.at_least(Role.ADMIN):
        raise PermissionDenied("Only admins and owners can remove other members.")
    try:
        services.member_remove(membership=membership, by_user=request.user, by_role=membership.member_role)
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return redirect("member_list", team_id=team.pk)
    if membership.user_id == request.user.pk:
        messages.success(request, f"You left {team.name}.")
        return redirect("team_list")
    messages.success(request, f"{membership.user.username} was removed from {team.name}.")
    return redirect("member_list", team_id=team.pk)


@require_GET
@login_required
def project_detail(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for(request.user, project_id)
    services.project_remember(user=request.user, project=project)
    return render(
        request,
        "accounts/project_detail.html",
        {"project": project, "form": ProjectForm(initial={"name": project.name})},
    )


@require_POST
@login_required
def project_rename(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for(request.user, project_id, role=Role.MEMBER)
    form = ProjectForm(request.POST)
    if form.is_valid():
        try:
            services.project_rename(project=project, name=form.cleaned_data["name"])
        except ValidationError as error:
            form.add_error("name", error)
    if form.errors:
        context = {"project": project, "form": form}
        return render(request, "accounts/project_detail.html", context, status=400)
    messages.success(request, f"Project renamed to “{project.name}”.")
    return redirect("project_detail", project_id=project.pk)


@require_POST
@login_required
def project_archive(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for(request.user, project_id, role=Role.ADMIN)
    archived = request.POST.get("archived", "1") == "1"
    services.project_set_archived(project=project, archived=archived)
    messages.success(request, f"Project “{project.name}” {'archived' if archived else 'restored'}.")
    return redirect("project_detail", project_id=project.pk)


@require_http_methods(["GET", "POST"])
@login_required
def project_delete(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for(request.user, project_id, role=Role.ADMIN)
    if request.method == "POST":
        services.project_delete(project=project)
        messages.success(request, f"Project “{project.name}” was deleted.")
        return redirect("team_detail", team_id=project.team_id)
    context = {
        "what": f"project “{project.name}”",
        "consequences": "This cannot be undone. Everything in the project will be deleted too.",
        "cancel_url": reverse("project_detail", args=[project.pk]),
    }
    return render(request, "_confirm_delete.html", context)


@require_POST
@login_required
def project_switch(request: HttpRequest) -> HttpResponse:
    form = SwitchForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a project to switch to.")
        return redirect("home")
    project = project_for(request.user, form.cleaned_data["project"])
    services.project_remember(user=request.user, project=project)
    return redirect("project_detail", project_id=project.pk)
