"""Sign-in with an optional second step (a TOTP code), and the "Two-factor sign-in" page."""

from __future__ import annotations

import time

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login

from members import two_factor
from members.forms.accounts import SignInForm, TwoFactorCodeForm

# Between the password and the code: who passed the password, with which backend, and when.
PENDING_KEY = "chibo_two_factor_pending"
PENDING_SECONDS = 300


class SignInView(auth_views.LoginView):
    """The password step; a login with a confirmed device is signed in only after its code."""

    authentication_form = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if two_factor.confirmed_device(user) is None:
            response = super().form_valid(form)
            mark_session(self.request)
            return response
        self.request.session[PENDING_KEY] = {"user": user.pk, "backend": user.backend, "at": time.time()}
        url = reverse("members:two_factor_verify")
        next_url = self.get_redirect_url()
        return redirect(f"{url}?{urlencode({'next': next_url})}" if next_url else url)


def mark_session(request) -> None:
    """After a sign-in without a code: members.middleware decides, on the next request, whether
    the session still owes one (a device) or a setup (the unit's rule)."""
    request.session[two_factor.SESSION_KEY] = two_factor.NEEDS_CHECK


def _verified(request, device) -> None:
    otp_login(request, device)
    request.session.pop(two_factor.SESSION_KEY, None)


def _safe_next(request) -> str:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return next_url
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _pending_user(request):
    """The login waiting for its code: the signed-in one (session opened without the code) or the
    one that passed the password step in the last five minutes."""
    if request.user.is_authenticated:
        return request.user, None
    pending = request.session.get(PENDING_KEY)
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None, None
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    return user, pending["backend"]


@sensitive_post_parameters("code")
@never_cache
def two_factor_verify(request):
    user, backend = _pending_user(request)
    if user is None:
        request.session.pop(PENDING_KEY, None)
        messages.info(request, _("Sign in again: the sign-in waited too long for the code."))
        return redirect("members:login")
    if request.user.is_authenticated and request.user.is_verified():
        return redirect(_safe_next(request))
    device = two_factor.confirmed_device(user)
    if device is None:
        request.session.pop(PENDING_KEY, None)
        return redirect("members:login")
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, _details = device.verify_is_allowed()
        if not allowed:
            form.add_error("code", _("Too many wrong codes. Wait a minute, then enter the code your app shows."))
        elif device.verify_token(form.cleaned_data["code"]):
            if backend is not None:
                request.session.pop(PENDING_KEY, None)
                auth_login(request, user, backend=backend)
            _verified(request, device)
            return redirect(_safe_next(request))
        else:
            form.add_error("code", _("The code is wrong or has expired. Enter the code your app shows now."))
    return render(request, "members/two_factor_verify.html", {"form": form, "next": _safe_next(request)})


@login_required
@sensitive_post_parameters("code")
@never_cache
def two_factor_setup(request):
    user = request.user
    required = two_factor.is_required(user)
    device = two_factor.confirmed_device(user)
    form = TwoFactorCodeForm(request.POST or None)
    if device is not None:
        # Turning it off takes a current code: a borrowed, signed-in phone is not enough.
        if request.method == "POST" and not required and form.is_valid():
            if device.verify_token(form.cleaned_data["code"]):
                two_factor.device_remove(user=user)
                messages.success(request, _("Two-factor sign-in is off. You sign in with your password alone."))
                return redirect("members:two_factor")
            form.add_error("code", _("The code is wrong or has expired. Enter the code your app shows now."))
        return render(request, "members/two_factor_setup.html", {"device": device, "required": required, "form": form})

    device = two_factor.device_for_setup(user=user)
    if request.method == "POST" and form.is_valid():
        if two_factor.device_confirm(device=device, code=form.cleaned_data["code"]):
            _verified(request, device)
            messages.success(request, _("Two-factor sign-in is on. Sign-in now asks for a code from your app."))
            return redirect(_safe_next(request))
        form.add_error("code", _("The code is wrong or has expired. Enter the code your app shows now."))
    # segno draws only geometry from the otpauth link: nothing user-typed reaches the markup.
    qr_svg = mark_safe(segno.make(device.config_url, error="m").svg_inline(scale=4, border=2))  # noqa: S308
    return render(
        request,
        "members/two_factor_setup.html",
        {
            "required": required,
            "form": form,
            "qr_svg": qr_svg,
            "secret": two_factor.secret_for_typing(device),
            "next": request.GET.get("next", ""),
        },
    )
