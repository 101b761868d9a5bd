from django import template

from members.notifications.services import unread_count, unread_count_keys

register = template.Library()


def _signed_in(request):
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def unread_keys_for_request(request) -> list[str]:
    """The cache keys the badge reads, for config.pagecache to fetch with the page."""
    user = _signed_in(request)
    return unread_count_keys(user) if user is not None and not hasattr(request, "_inbox_unread") else []


def unread_for_request(request, found: dict | None = None) -> int:
    """The header badge's count: one COUNT query (or a cache read), kept on the request (base.html
    may ask twice; config.pagecache asks when it fills a cached page, with the keys it read)."""
    user = _signed_in(request)
    if user is None:
        return 0
    if not hasattr(request, "_inbox_unread"):
        request._inbox_unread = unread_count(user, found)
    return request._inbox_unread


@register.simple_tag(takes_context=True)
def inbox_unread(context) -> int:
    request = context.get("request")
    return unread_for_request(request) if request is not None else 0
