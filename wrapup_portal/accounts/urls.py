from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from wrapup_portal.accounts import views
from wrapup_portal.accounts.forms import SignInForm

app_name = "accounts"

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html", authentication_form=SignInForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("grants/", views.grant_list, name="grants"),
    path("grants/<int:user_id>/", views.grant_edit, name="grant"),
    path("lockouts/", views.lockouts, name="lockouts"),
    path("lockouts/unlock/", views.unlock, name="unlock"),
]
