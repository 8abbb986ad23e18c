from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "wrapup_portal.core"
    label = "core"
    verbose_name = "Portal core"
