"""Django admin: audit events and checkpoints are shown, never added, changed or deleted."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from wrapup_portal.accounts.roles import perm
from wrapup_portal.audit.models import AuditCheckpoint, AuditEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    # The portal's own permission, as on the *Audit log* pages: compliance's `view_audit`, which
    # admins do not hold (separation of duties). Compliance users are not staff, so in practice
    # only a superuser reads events here; everyone else uses the *Audit log* pages.
    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(perm("view_audit"))

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.has_perm(perm("view_audit"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("sequence", "occurred_at", "actor_kind", "actor_username", "action", "conversation_id", "outcome")
    list_filter = ("action", "actor_kind")
    search_fields = ("=actor_username", "=conversation_id", "=request_id")
    # The change list's full COUNT is slow on a million rows; the portal's pages are keyset.
    show_full_result_count = False
    actions = None


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdmin):
    list_display = ("sequence", "hash", "verified_at", "events_checked")
    actions = None
