from __future__ import annotations

from django.apps import AppConfig


class OverviewConfig(AppConfig):
    name = "wrapup_portal.overview"
    label = "overview"
