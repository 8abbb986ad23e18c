from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate

SYNC_SCHEDULE_NAME = "catalog.sync"


def register_sync_schedule(**kwargs: Any) -> None:
    """Register (or re-time) the periodic catalog sync by name; runs after every migrate."""
    from django.conf import settings
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name=SYNC_SCHEDULE_NAME,
        defaults={"func": "wrapup_portal.catalog.tasks.catalog_sync_scheduled", "schedule_type": Schedule.MINUTES,
                  "minutes": settings.CATALOG_SYNC_MINUTES, "repeats": -1},
    )


class CatalogConfig(AppConfig):
    name = "wrapup_portal.catalog"
    label = "catalog"

    def ready(self) -> None:
        post_migrate.connect(register_sync_schedule, sender=self, dispatch_uid="catalog.register_sync_schedule")
