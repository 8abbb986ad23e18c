from __future__ import annotations

from django.urls import path

from wrapup_portal.overview import views

app_name = "overview"

urlpatterns = [
    path("", views.home, name="home"),
]
