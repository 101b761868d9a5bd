"""Sign-in protection with django-axes: failures are counted per account and per address."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend

from members.auth import _find_user


class LockoutBackend(AxesStandaloneBackend):
    """First in AUTHENTICATION_BACKENDS: refuses every sign-in while the account or address is locked.

    authenticate() without a request (the shell, a management command) has no client to count
    against; axes would raise, so it is handed on to the next backend instead.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_username(request, credentials: dict | None) -> str | None:
    """The account an attempt aims at, whichever identifier was typed.

    A card number, a phone in any of its forms and an e-mail all count against the one login
    they name, so writing "+84 912…" instead of "0912…" starts no fresh count. An identifier
    that names nobody counts as itself, lower-cased: the page looks the same either way.
    """
    raw = (credentials or {}).get("username")
    if raw is None and request is not None:
        raw = request.POST.get("username")
    if not raw:
        return None
    raw = raw.strip()
    # axes asks several times per attempt; the lookup costs up to three queries.
    cache = getattr(request, "_chibo_lockout_names", None) if request is not None else None
    if cache is not None and raw in cache:
        return cache[raw]
    user = _find_user(raw)
    name = user.get_username() if user is not None else raw.lower()
    if request is not None:
        request._chibo_lockout_names = {**(cache or {}), raw: name}
    return name
