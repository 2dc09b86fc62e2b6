from __future__ import annotations

from django.urls import path

from playground.prompts import views

urlpatterns = [
    path("projects/<id:project_id>/prompts/", views.project_prompts, name="project_prompts"),
    path("teams/<id:team_id>/prompts/", views.prompt_library, name="prompt_library"),
    path("teams/<id:team_id>/prompts/new/", views.prompt_create, name="prompt_create"),
    path("teams/<id:team_id>/prompts/import/", views.prompt_import, name="prompt_import"),
    path("teams/<id:team_id>/prompts/export/", views.prompt_export_all, name="prompt_export_all"),
    path("teams/<id:team_id>/prompts/deleted/", views.prompts_deleted, name="prompts_deleted"),
    path("teams/<id:team_id>/prompts/settings/", views.prompt_settings, name="prompt_settings"),
    path("prompts/<id:prompt_id>/", views.prompt_detail, name="prompt_detail"),
    path("prompts/<id:prompt_id>/edit/", views.prompt_edit, name="prompt_edit"),
    path("prompts/<id:prompt_id>/visibility/", views.prompt_visibility, name="prompt_visibility"),
    path("prompts/<id:prompt_id>/delete/", views.prompt_delete, name="prompt_delete"),
    path("prompts/<id:prompt_id>/undelete/", views.prompt_undelete, name="prompt_undelete"),
    path("prompts/<id:prompt_id>/export/", views.prompt_export, name="prompt_export"),
    path("prompts/<id:prompt_id>/versions/new/", views.version_create, name="version_create"),
    path("prompts/<id:prompt_id>/diff/", views.versions_diff, name="version_diff"),
    path("prompts/<id:prompt_id>/versions/<id:number>/", views.version_detail, name="version_detail"),
    path("prompts/<id:prompt_id>/versions/<id:number>/current/", views.version_current, name="version_current"),
    path("prompts/<id:prompt_id>/versions/<id:number>/restore/", views.version_restore, name="version_restore"),
    path("prompts/<id:prompt_id>/versions/<id:number>/run/", views.version_run, name="version_run"),
    path("prompts/<id:prompt_id>/versions/<id:number>/preview/", views.version_preview, name="version_preview"),
    path("prompts/<id:prompt_id>/versions/<id:number>/compare/", views.version_compare, name="version_compare"),
    path("compare/<id:run_id>/", views.compare_detail, name="compare_detail"),
    path("compare/<id:run_id>/columns/<id:position>/", views.compare_column, name="compare_column"),
    path("compare/<id:run_id>/columns/<id:position>/save/", views.compare_save, name="compare_save"),
]
