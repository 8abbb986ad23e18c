from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from wrapup_portal.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Single sign-on (OpenID Connect): both answer 404 while it is off.
    path("sso/start/", views.sso_start, name="sso_start"),
    path("sso/callback/", views.sso_callback, name="sso_callback"),
    path("grants/", views.grant_list, name="grants"),
    path("grants/<int:user_id>/", views.grant_edit, name="grant"),
    path("lockouts/", views.lockouts, name="lockouts"),
    path("lockouts/unlock/", views.unlock, name="unlock"),
]
