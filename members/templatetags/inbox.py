from django import template

from members.notifications.services import unread_count

register = template.Library()


def unread_for_request(request) -> int:
    """The header badge's count: one COUNT query (or a cache read), kept on the request (base.html
    may ask twice; config.pagecache asks when it fills a cached page)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    if not hasattr(request, "_inbox_unread"):
        request._inbox_unread = unread_count(user)
    return request._inbox_unread


@register.simple_tag(takes_context=True)
def inbox_unread(context) -> int:
    request = context.get("request")
    return unread_for_request(request) if request is not None else 0
