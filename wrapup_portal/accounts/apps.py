from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "wrapup_portal.accounts"
    label = "accounts"

    def ready(self) -> None:
        from wrapup_portal.accounts import signals

        signals.connect()
