from __future__ import annotations

from django.urls import path

from wrapup_portal.assignments import views

app_name = "assignments"

urlpatterns = [
    path("", views.assignment_list, name="list"),
    path("<int:pk>/", views.assignment_detail, name="detail"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/retry/", views.retry, name="retry"),
    path("bulk/preview/", views.bulk_preview, name="bulk_preview"),
    path("bulk/confirm/", views.bulk_confirm, name="bulk_confirm"),
    path("upload/", views.upload, name="upload"),
    path("upload/confirm/", views.upload_confirm, name="upload_confirm"),
    path("jobs/<int:pk>/", views.job_detail, name="job"),
]
