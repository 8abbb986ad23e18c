from __future__ import annotations

from django.urls import path

from wrapup_portal.core import views

app_name = "core"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("system/", views.status, name="status"),
]
