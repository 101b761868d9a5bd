"""Two-factor sign-in where the tree requires it (placed after django-otp's OTPMiddleware)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from members import two_factor

# Pages a session may open before its second factor: the setup and code pages, sign-out, language.
_OPEN_URLS = ("members:two_factor", "members:two_factor_verify", "members:logout", "set_language")


class TwoFactorMiddleware:
    """Holds a session to its second factor, decided once after it signed in (two_factor.SESSION_KEY).

    "setup": a committee or staff login whose unit requires two-factor sign-in and that has no
    device yet sees the setup page before any other. "code": a login with a device whose session
    was opened without the code (an activation link) goes to the code page. Deciding once per
    session costs no query on later requests; a unit that turns the requirement on reaches its
    committee at their next sign-in. The admin's own sign-in form is sent to members:login, so
    every password sign-in goes through lock-out and the code step.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self._paths: dict | None = None

    def __call__(self, request):
        target = self._target(request)
        if target is None:
            return self.get_response(request)
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(target)
        return redirect(target)

    def _target(self, request) -> str | None:
        paths = self._known_paths()
        path = request.path_info
        if path == paths["admin_login"]:
            next_url = request.GET.get("next") or paths["admin_index"]
            return f"{paths['login']}?{urlencode({'next': next_url})}"
        need = request.session.get(two_factor.SESSION_KEY) if hasattr(request, "session") else None
        if need is None or path in paths["open"] or path.startswith(settings.STATIC_URL):
            return None
        if not request.user.is_authenticated or request.user.is_verified():
            return None
        if need == two_factor.NEEDS_CHECK:
            # Once per session, on the first request after signing in.
            need = two_factor.session_needs(request.user)
            if need is None:
                del request.session[two_factor.SESSION_KEY]
                return None
            request.session[two_factor.SESSION_KEY] = need
        target = paths["verify"] if need == two_factor.NEEDS_CODE else paths["setup"]
        return f"{target}?{urlencode({'next': request.get_full_path()})}" if request.method == "GET" else target

    def _known_paths(self) -> dict:
        if self._paths is None:
            self._paths = {
                "open": {reverse(name) for name in _OPEN_URLS},
                "setup": reverse("members:two_factor"),
                "verify": reverse("members:two_factor_verify"),
                "login": reverse("members:login"),
                "admin_login": reverse("admin:login"),
                "admin_index": reverse("admin:index"),
            }
        return self._paths
