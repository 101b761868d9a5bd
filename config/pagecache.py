"""Whole signed-in pages kept in the cache, per viewer and per version of what they show.

A page that is read again and again while nothing changes (the attendance page during a meeting)
is rendered once per viewer and version and then served from the cache, with the two things that
differ from one request to the next filled in: this request's csrf token and the inbox badge.
The view still authenticates the viewer and fetches and checks its object first (scope, 404/403);
only the rendering is skipped. Pages are never shared between viewers (the key holds the login),
a page with flash messages pending is rendered normally, and everything the page shows besides the
viewer's header must be in `version` (the object's last change and what the viewer may do there).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.translation import get_language

from members.templatetags.inbox import unread_for_request

# Rendered in place of the token and of the header's inbox link, then replaced on every request.
# Letters and digits only: they pass through HTML escaping unchanged.
CSRF_SLOT = "csrfslot9b1e6c04d27a4f0e8a35"
INBOX_SLOT = "inboxslot5d0c2a7e91f34b6c8d17"


def _has_messages(request: HttpRequest) -> bool:
    from django.contrib.messages import get_messages

    return len(get_messages(request)) > 0  # len() reads the storage without marking it used


def page_key(request: HttpRequest, version: tuple) -> str:
    user = request.user
    member = getattr(user, "member", None)
    parts = (
        request.get_full_path(),
        get_language(),
        user.pk,
        user.is_staff,
        member.uid if member is not None else "",
        user.get_full_name(),
        user.username,
        *version,
    )
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()
    return f"page:{digest}"


@lru_cache(maxsize=256)
def _inbox_link(language: str, unread: int) -> str:
    return render_to_string("components/inbox_link.html", {"unread": unread})


def fill(html: str, request: HttpRequest) -> str:
    badge = _inbox_link(get_language(), unread_for_request(request))
    return html.replace(CSRF_SLOT, get_token(request)).replace(INBOX_SLOT, badge)


def cached_page(
    request: HttpRequest, version: tuple, render: Callable[[dict], HttpResponse], timeout: int
) -> HttpResponse:
    """The page `render(slots)` would give (slots: extra context for the template), from the cache
    when this viewer already saw this version of it."""
    if request.method != "GET" or getattr(request, "htmx", False) or _has_messages(request):
        return render({})
    key = page_key(request, version)
    html = cache.get(key)
    if html is None:
        response = render({"csrf_token": CSRF_SLOT, "inbox_slot": INBOX_SLOT})
        if response.status_code != 200 or response.streaming:
            return response
        html = response.content.decode(response.charset)
        cache.set(key, html, timeout)
        response.content = fill(html, request)
        return response
    return HttpResponse(fill(html, request))
