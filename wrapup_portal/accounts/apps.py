from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "wrapup_portal.accounts"
    label = "accounts"
