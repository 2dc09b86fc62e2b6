from __future__ import annotations

from django.urls import path

from playground.usage import views

urlpatterns = [
    path("usage/", views.dashboard, name="usage_dashboard"),
    path("usage/export.csv", views.export, name="usage_export"),
    path("teams/<id:team_id>/prices/", views.price_list, name="usage_prices"),
    path("prices/<id:price_id>/delete/", views.price_delete, name="usage_price_delete"),
    path("teams/<id:team_id>/budgets/", views.budget_list, name="usage_budgets"),
    path("budgets/<id:budget_id>/delete/", views.budget_delete, name="usage_budget_delete"),
]
