"""Unsubscribe pages, reached from a link in an e-mail by someone who may have no login: the signed
token (unsubscribe.read_token) is the only authority, and it names one person and one kind."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from . import services
from .models import NotificationPreference
from .unsubscribe import Subscriber, read_token


def _subscriber(token: str) -> Subscriber:
    found = read_token(token)
    if found is None:  # tampered, signed for something else, or revoked (the address changed)
        raise Http404
    return found


def _email_on(subscriber: Subscriber) -> bool:
    person = {"user": subscriber.user} if subscriber.user is not None else {"member": subscriber.member}
    saved = NotificationPreference.objects.filter(**person, kind=subscriber.kind.key).values_list("email", flat=True)
    return next(iter(saved), subscriber.kind.email_default)


def _set(subscriber: Subscriber, email: bool) -> None:
    services.notification_email_set(
        kind=subscriber.kind.key, email=email, user=subscriber.user, member=subscriber.member
    )


def _page(request, subscriber: Subscriber, token: str, step: str):
    response = render(request, "members/unsubscribe.html", {"subscriber": subscriber, "token": token, "step": step})
    # The token is in the address: no Referer to other sites ("no-referrer" would make the browser
    # send "Origin: null" with the form, which CSRF checking refuses).
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    """GET asks (a link scanner opening it changes nothing); the POST, with its CSRF token, records."""
    subscriber = _subscriber(token)
    if request.method == "POST":
        _set(subscriber, False)
        return redirect("members:unsubscribe_done", token=token)
    if not _email_on(subscriber):
        return redirect("members:unsubscribe_done", token=token)
    return _page(request, subscriber, token, "confirm")


@never_cache
def unsubscribe_done(request, token):
    subscriber = _subscriber(token)
    if _email_on(subscriber):
        return redirect("members:unsubscribe", token=token)
    return _page(request, subscriber, token, "done")


@require_POST
def unsubscribe_undo(request, token):
    subscriber = _subscriber(token)
    _set(subscriber, True)
    messages.success(
        request,
        _("E-mails of the kind “%(kind)s” will reach %(address)s again.")
        % {"kind": subscriber.kind.label, "address": subscriber.masked_address},
    )
    return redirect("members:unsubscribe", token=token)


@csrf_exempt  # RFC 8058: the mail provider POSTs here without a session; this view only turns one kind off
@require_http_methods(["GET", "POST"])
def unsubscribe_one_click(request, token):
    subscriber = _subscriber(token)
    if request.method == "GET":  # a client that opens the header's URL in a browser gets the page
        return redirect("members:unsubscribe", token=token)
    _set(subscriber, False)
    return HttpResponse(_("Unsubscribed."), content_type="text/plain; charset=utf-8")
