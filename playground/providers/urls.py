from __future__ import annotations

from django.urls import path

from playground.providers import views

urlpatterns = [
    path("teams/<id:team_id>/providers/", views.provider_list, name="provider_list"),
    path("providers/<id:provider_id>/", views.provider_detail, name="provider_detail"),
    path("providers/<id:provider_id>/edit/", views.provider_edit, name="provider_edit"),
    path("providers/<id:provider_id>/delete/", views.provider_delete, name="provider_delete"),
    path("providers/<id:provider_id>/keys/", views.key_add, name="key_add"),
    path("providers/<id:provider_id>/models/refresh/", views.models_refresh, name="models_refresh"),
    path("providers/<id:provider_id>/schema/", views.schema_upload, name="schema_upload"),
    path("providers/<id:provider_id>/schema/refresh/", views.schema_refresh, name="schema_refresh"),
    path("providers/<id:provider_id>/schema/reset/", views.schema_reset, name="schema_reset"),
    path("providers/<id:provider_id>/parameters/<str:endpoint>/", views.parameters, name="parameters"),
    path("keys/<id:key_id>/test/", views.key_test, name="key_test"),
    path("keys/<id:key_id>/revoke/", views.key_revoke, name="key_revoke"),
]
