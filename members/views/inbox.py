"""The in-app inbox and e-mail preferences: a person sees only their own notifications."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from members.notifications import services
from members.notifications.models import NotificationPreference
from members.notifications.registry import KINDS, kind_label

PAGE_SIZE = 20


def _own(request, uid):
    notification = services.inbox_for(request.user).filter(uid=uid).first()
    if notification is None:
        raise Http404
    return notification


@login_required
def inbox(request):
    paginator = Paginator(services.inbox_for(request.user), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    for notification in page.object_list:
        notification.kind_label = kind_label(notification.kind)
    return render(request, "members/inbox.html", {"page": page})


@login_required
def inbox_open(request, uid):
    """Mark read and go to the object (its own page checks scope again)."""
    notification = services.notification_mark_read(notification=_own(request, uid), by=request.user)
    target = notification.url
    if not target or not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect("members:inbox")
    return redirect(target)


@login_required
@require_POST
def inbox_read(request, uid):
    services.notification_mark_read(notification=_own(request, uid), by=request.user)
    return redirect(request.POST.get("next") if _safe(request) else "members:inbox")


@login_required
@require_POST
def inbox_read_all(request):
    count = services.notifications_mark_all_read(by=request.user)
    messages.success(request, _("%(count)s notifications marked as read.") % {"count": count})
    return redirect("members:inbox")


def _safe(request) -> bool:
    target = request.POST.get("next", "")
    return bool(target) and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})


@login_required
def preferences(request):
    saved = dict(NotificationPreference.objects.filter(user=request.user).values_list("kind", "email"))
    kinds = sorted(KINDS.values(), key=lambda k: (k.audience != "members", str(k.label)))
    if request.method == "POST":
        chosen = {key for key in request.POST.getlist("email") if key in KINDS}
        services.notification_preferences_save(user=request.user, email_kinds=chosen, by=request.user)
        messages.success(request, _("Notification settings saved."))
        return redirect("members:notification_preferences")
    rows = [(kind, saved.get(kind.key, kind.email_default)) for kind in kinds]
    has_address = bool(request.user.email or getattr(getattr(request.user, "member", None), "email", ""))
    return render(request, "members/notification_preferences.html", {"rows": rows, "has_address": has_address})
