"""Auto-assign rule pages, included at ``rules/`` (namespace ``rules``)."""

from __future__ import annotations

from django.urls import path

from wrapup_portal.assignments import rule_views as views

app_name = "rules"

urlpatterns = [
    path("", views.rule_index, name="list"),
    path("new/", views.rule_new, name="create"),
    path("dry-run/", views.rule_dry_run_page, name="dry_run"),
    path("<int:pk>/", views.rule_edit, name="edit"),
    path("<int:pk>/delete/", views.rule_delete, name="delete"),
    path("<int:pk>/toggle/", views.rule_toggle, name="toggle"),
    path("<int:pk>/move/", views.rule_move, name="move"),
]
