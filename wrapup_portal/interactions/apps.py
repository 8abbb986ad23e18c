from __future__ import annotations

from django.apps import AppConfig


class InteractionsConfig(AppConfig):
    name = "wrapup_portal.interactions"
    label = "interactions"
