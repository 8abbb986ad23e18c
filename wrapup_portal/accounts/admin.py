"""Django admin: admins read the portal's users and queue grants there; changes go through the portal.

Admins hold the portal's permissions, not Django's model permissions (`auth.view_user`...), so
these ModelAdmins decide from `manage_grants`. Nothing can be added, changed or deleted here:
grants are changed on *Queue grants* (audited), users and roles by `seed_demo` or a superuser.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest

from wrapup_portal.accounts.models import QueueGrant
from wrapup_portal.accounts.roles import perm


class _ReadForGrantManagers:
    """View (and see in the index) with `manage_grants`; never add, change or delete."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(perm("manage_grants"))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm(perm("manage_grants"))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class QueueGrantInline(_ReadForGrantManagers, admin.TabularInline):
    model = QueueGrant
    fk_name = "user"
    fields = ("code_group", "granted_by", "granted_at")
    readonly_fields = fields
    extra = 0


@admin.register(QueueGrant)
class QueueGrantAdmin(_ReadForGrantManagers, admin.ModelAdmin):
    list_display = ("user", "code_group", "granted_by", "granted_at")
    list_filter = ("code_group",)
    search_fields = ("user__username", "code_group__name")
    list_select_related = ("user", "code_group", "granted_by")
    actions = None


admin.site.unregister(User)


@admin.register(User)
class PortalUserAdmin(_ReadForGrantManagers, UserAdmin):
    list_display = ("username", "first_name", "last_name", "roles", "is_active", "is_staff", "last_login")
    list_filter = ("groups", "is_active", "is_staff")
    # No password field: not even its hash's algorithm is an admin's business here.
    fieldsets = (
        (None, {"fields": ("username", "first_name", "last_name", "email")}),
        ("Role and status", {"fields": ("groups", "is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    inlines = (QueueGrantInline,)
    actions = None

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="role")
    def roles(self, user: User) -> str:
        return ", ".join(group.name for group in user.groups.all()) or "—"
