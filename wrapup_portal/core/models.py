"""Shared pieces: the cluster heartbeat."""

from __future__ import annotations

from django.db import models


class Heartbeat(models.Model):
    """Last time a named background process proved it was alive."""

    name = models.CharField(max_length=64, primary_key=True)
    beat_at = models.DateTimeField()
    detail = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"
