"""Whole signed-in pages kept in the cache, per viewer and per version of what they show.

A page that is read again and again while nothing changes (the attendance page during a meeting)
is rendered once per viewer and version and then served from the cache, with the two things that
differ from one request to the next filled in: this request's csrf token and the inbox badge.
The view still authenticates the viewer and fetches and checks its object first (scope, 404/403);
only the rendering is skipped. Pages are never shared between viewers (the key holds the login),
a page with flash messages pending is rendered normally, and everything the page shows besides the
viewer's header must be in `version` (the object's last change and what the viewer may do there)
or given by `check` (what is read from the cache with the page).

A hit costs one cache round trip (the page, the inbox badge's keys and the view's `read_with`
together) and no rendering: the page is kept in UTF-8 pieces around the slots and joined as bytes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from functools import lru_cache

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.translation import get_language

from members.templatetags.inbox import unread_for_request, unread_keys_for_request

# Rendered in place of the token and of the header's inbox link, then replaced on every request.
# Letters and digits only: they pass through HTML escaping unchanged.
CSRF_SLOT = "csrfslot9b1e6c04d27a4f0e8a35"
INBOX_SLOT = "inboxslot5d0c2a7e91f34b6c8d17"
_SLOTS = re.compile(f"({CSRF_SLOT}|{INBOX_SLOT})")


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
    return f"page2:{digest}"  # 2: kept as split() gives


@lru_cache(maxsize=256)
def _inbox_link(language: str, unread: int) -> bytes:
    return render_to_string("components/inbox_link.html", {"unread": unread}).encode()


def split(html: str) -> list:
    """The page as it is kept: its text in UTF-8 pieces, each followed by the name of the slot that
    comes next. A hit joins bytes: no 115 KB string to unpickle, search twice and encode again."""
    pieces = _SLOTS.split(html)
    pieces[::2] = [text.encode() for text in pieces[::2]]
    return pieces


def fill(pieces: list, request: HttpRequest, found: dict | None = None) -> bytes:
    """The kept page with this request's csrf token and inbox badge (found: the badge's cache keys
    if they were read with the page)."""
    values, slots = {}, pieces[1::2]
    if CSRF_SLOT in slots:
        values[CSRF_SLOT] = get_token(request).encode()
    if INBOX_SLOT in slots:
        values[INBOX_SLOT] = _inbox_link(get_language(), unread_for_request(request, found))
    out = list(pieces)
    out[1::2] = [values[slot] for slot in slots]
    return b"".join(out)


def cached_page(
    request: HttpRequest,
    version: tuple,
    render: Callable[[dict], HttpResponse],
    timeout: int,
    *,
    read_with: Sequence[str] = (),
    check: Callable[[dict], object] | None = None,
) -> HttpResponse:
    """The page `render(slots)` would give (slots: extra context for the template), from the cache
    when this viewer already saw this version of it.

    read_with: other cache keys read in the same round trip as the page. check(found), found being
    what of them the cache holds, gives the part of the version that is known only once they are
    read (the settings a page shows, kept in the cache): it is kept with the page and must be equal
    on a hit, as if it were in the key."""
    if request.method != "GET" or getattr(request, "htmx", False) or _has_messages(request):
        return render({})
    key = page_key(request, version)
    inbox_keys = unread_keys_for_request(request)
    found = cache.get_many([key, *read_with, *inbox_keys])
    checked = check(found) if check is not None else None
    kept = found.get(key)
    if kept is not None and kept[0] == checked:
        return HttpResponse(fill(kept[1], request, found))
    response = render({"csrf_token": CSRF_SLOT, "inbox_slot": INBOX_SLOT})
    if response.status_code != 200 or response.streaming:
        return response
    pieces = split(response.content.decode(response.charset))
    cache.set(key, (checked, pieces), timeout)
    response.content = fill(pieces, request, found)
    return response
