"""Sign-in, password and member-login URLs (kept in the members namespace)."""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from members.views import accounts, two_factor

urlpatterns = [
    # The password step; logins with a TOTP device then give their code (members.views.two_factor).
    path("login/", two_factor.SignInView.as_view(), name="login"),
    path("login/code/", two_factor.two_factor_verify, name="two_factor_verify"),
    path("account/two-factor/", two_factor.two_factor_setup, name="two_factor"),
    path("logout/", auth_views.LogoutView.as_view(next_page=reverse_lazy("members:login")), name="logout"),
    path(
        "password/change/",
        auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("members:password_change_done")),
        name="password_change",
    ),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(
            success_url=reverse_lazy("members:password_reset_done"),
            subject_template_name="emails/account_password_reset_subject.txt",
            email_template_name="emails/account_password_reset.txt",
            html_email_template_name="emails/account_password_reset.html",
        ),
        name="password_reset",
    ),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(success_url=reverse_lazy("members:password_reset_complete")),
        name="password_reset_confirm",
    ),
    path("password/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("activate/", accounts.activate, name="activate"),
    path("members/<uuid:uid>/login/slip/", accounts.account_slip, name="account_slip"),
    path("members/<uuid:uid>/login/invite/", accounts.account_invite, name="account_invite"),
    path("members/<uuid:uid>/login/disable/", accounts.account_disable, name="account_disable"),
]
