from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from playground.accounts import audit_log, views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("teams/", views.team_list, name="team_list"),
    path("audit/", audit_log.audit_list, name="audit_list"),
    path("teams/<id:team_id>/", views.team_detail, name="team_detail"),
    path("teams/<id:team_id>/delete/", views.team_delete, name="team_delete"),
    path("teams/<id:team_id>/members/", views.member_list, name="member_list"),
    path("teams/<id:team_id>/members/<id:membership_id>/role/", views.member_role, name="member_role"),
    path("teams/<id:team_id>/members/<id:membership_id>/remove/", views.member_remove, name="member_remove"),
    path("projects/switch/", views.project_switch, name="project_switch"),
    path("projects/<id:project_id>/", views.project_detail, name="project_detail"),
    path("projects/<id:project_id>/rename/", views.project_rename, name="project_rename"),
    path("projects/<id:project_id>/archive/", views.project_archive, name="project_archive"),
    path("projects/<id:project_id>/delete/", views.project_delete, name="project_delete"),
]
