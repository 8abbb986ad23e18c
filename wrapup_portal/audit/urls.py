from __future__ import annotations

from django.urls import path

from wrapup_portal.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.event_list, name="list"),
    path("export/", views.export, name="export"),
    path("verify/", views.verify, name="verify"),
    path("verify/<int:sequence>/", views.verification, name="verification"),
    path("<int:sequence>/", views.event_detail, name="detail"),
    path("<int:sequence>/manifest/", views.export_manifest, name="manifest"),
]
