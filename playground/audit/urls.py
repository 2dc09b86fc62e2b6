from __future__ import annotations

from django.urls import path

from playground.audit import views

urlpatterns = [path("audit/", views.audit_list, name="audit_list")]
