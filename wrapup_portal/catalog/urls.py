from __future__ import annotations

from django.urls import path

from wrapup_portal.catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.group_list, name="groups"),
    path("synced/", views.toggle_synced, name="toggle"),
    path("groups/<int:pk>/", views.group_detail, name="group"),
    path("sync/", views.sync_now, name="sync"),
    path("runs/", views.run_list, name="runs"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("drift/", views.drift, name="drift"),
]
