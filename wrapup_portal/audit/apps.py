from __future__ import annotations

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "wrapup_portal.audit"
    label = "audit"

    def ready(self) -> None:
        from wrapup_portal.audit import signals

        signals.connect()
