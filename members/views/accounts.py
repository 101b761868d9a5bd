"""Member logins: activation by code, the printable slip, the e-mail invitation, disabling."""

import logging
from smtplib import SMTPException

import segno
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from members import access, accounts
from members.forms.accounts import ActivationForm
from members.models import AccountActivation
from members.views.two_factor import mark_session

logger = logging.getLogger(__name__)


def _activate_url(request) -> str:
    return request.build_absolute_uri(reverse("members:activate"))


@sensitive_post_parameters("code", "new_password1", "new_password2")
@never_cache
def activate(request):
    if request.method != "POST":
        initial = {"identifier": request.GET.get("id", ""), "code": request.GET.get("code", "")}
        return render(request, "members/account_activate.html", {"form": ActivationForm(initial=initial)})
    form = ActivationForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            activation = accounts.activation_find(identifier=data["identifier"], code=data["code"])
        except accounts.ActivationError as exc:
            form.add_error(None, exc)
        else:
            if form.check_password_for(accounts.password_check_user(activation.member)):
                try:
                    user = accounts.activation_complete(activation=activation, password=data["new_password1"])
                except ValidationError as exc:
                    form.add_error(None, exc)
                else:
                    login(request, user, backend="members.auth.IdentifierBackend")
                    mark_session(request)  # a device, or the unit's rule, may still ask for a second factor
                    messages.success(
                        request,
                        _("Welcome, %(name)s. Your password is set; you are signed in.") % {"name": user.first_name},
                    )
                    return redirect("members:home")
    return render(request, "members/account_activate.html", {"form": form})


@login_required
@require_POST
@never_cache
def account_slip(request, uid):
    member = access.get_member_for_user(request.user, uid, write=True)
    try:
        activation, code = accounts.activation_issue(
            member=member, channel=AccountActivation.Channel.SLIP, by=request.user
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("members:detail", member.uid)
    activate_url = _activate_url(request)
    link = accounts.activation_link(base_url=activate_url, member=member, code=code)
    # segno draws only geometry from the link: nothing user-typed reaches the markup.
    qr_svg = mark_safe(segno.make(link, error="m").svg_inline(scale=4, border=2))  # noqa: S308
    return render(
        request,
        "members/account_slip.html",
        {
            "member": member,
            "cell": member.home_unit,
            "identifier": accounts.member_identifier(member),
            "code": code,
            "activate_url": activate_url,
            "qr_svg": qr_svg,
            "expires_at": activation.expires_at,
        },
    )


@login_required
@require_POST
def account_invite(request, uid):
    member = access.get_member_for_user(request.user, uid, write=True)
    try:
        accounts.activation_invite(member=member, activate_url=_activate_url(request), by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except (SMTPException, OSError):
        logger.exception("Activation e-mail to member %s failed", member.uid)
        messages.error(request, _("The e-mail could not be sent. Try again later, or print an activation slip."))
    else:
        messages.success(request, _("An invitation was sent to %(email)s.") % {"email": member.email})
    return redirect("members:detail", member.uid)


@login_required
@require_POST
def account_disable(request, uid):
    member = access.get_member_for_user(request.user, uid, write=True)
    if member.user_id == request.user.pk:
        messages.error(request, _("You cannot disable your own login."))
    elif accounts.account_disable(member=member, by=request.user):
        messages.success(request, _("The login of %(name)s is disabled.") % {"name": member.full_name})
    else:
        messages.info(request, _("%(name)s has no active login.") % {"name": member.full_name})
    return redirect("members:detail", member.uid)
