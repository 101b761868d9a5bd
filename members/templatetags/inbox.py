from django import template

from members.notifications.services import unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def inbox_unread(context) -> int:
    """The header badge: one COUNT query, cached on the request (base.html may ask twice)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    if not hasattr(request, "_inbox_unread"):
        request._inbox_unread = unread_count(user)
    return request._inbox_unread
