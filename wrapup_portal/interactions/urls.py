from __future__ import annotations

from django.urls import path

from wrapup_portal.interactions import views

app_name = "interactions"

urlpatterns = [
    path("", views.search, name="search"),
    path("export.csv", views.export, name="export"),
    path("live/", views.board, name="board"),
    path("assign-all/", views.bulk_all, name="bulk_all"),
    path("<str:conversation_id>/", views.detail, name="detail"),
    path("<str:conversation_id>/legs/<str:participant_id>/assign/", views.assign, name="assign"),
]
