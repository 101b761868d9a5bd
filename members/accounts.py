"""Member logins: one-time activation codes (printed slip or e-mailed link), their use, disabling."""

from __future__ import annotations

import datetime
import secrets
from functools import cache
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from members.auth import find_member
from members.models import AccountActivation, Member, User
from members.notifications.services import preferences_follow_login

# Unambiguous characters only: the code is typed from paper by people of every age.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
MAX_FAILED_ATTEMPTS = 5


def _new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def normalise_code(code: str) -> str:
    raw = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    return f"{raw[:4]}-{raw[4:]}"


def member_identifier(member: Member) -> str:
    """What the member types to activate and sign in: the card number, else the phone, else the e-mail."""
    return member.card_number or member.phone or member.email


def activation_link(*, base_url: str, member: Member, code: str) -> str:
    """The link on the slip's QR code and in the e-mail; base_url is the absolute activate URL."""
    return f"{base_url}?{urlencode({'id': member_identifier(member), 'code': code})}"


@transaction.atomic
def activation_issue(*, member: Member, channel: str, by: User) -> tuple[AccountActivation, str]:
    """A fresh one-time code for the member; earlier unused codes stop working. Returns the code once."""
    if member.ended_on:
        raise ValidationError(_("This member has left the rolls and cannot be given a login."))
    if channel == AccountActivation.Channel.EMAIL and not member.email:
        raise ValidationError(_("This member has no e-mail address; print an activation slip instead."))
    if not member_identifier(member):
        raise ValidationError(_("Record the member's party card number or phone first: it is needed to sign in."))
    now = timezone.now()
    AccountActivation.objects.filter(member=member, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )
    code = _new_code()
    activation = AccountActivation.objects.create(
        member=member,
        channel=channel,
        code_hash=make_password(code),
        created_by=by,
        expires_at=now + datetime.timedelta(days=settings.ACTIVATION_CODE_TTL_DAYS),
    )
    return activation, code


def activation_invite(*, member: Member, activate_url: str, by: User) -> AccountActivation:
    """Issue an e-mail activation and send the invitation with the link (the code included)."""
    activation, code = activation_issue(member=member, channel=AccountActivation.Channel.EMAIL, by=by)
    context = {
        "member": member,
        "code": code,
        "identifier": member_identifier(member),
        "link": activation_link(base_url=activate_url, member=member, code=code),
        "expires_at": activation.expires_at,
        "cell": member.home_unit,
    }
    # Sent outside the issuing transaction: an SMTP stall must not hold SQLite's write lock.
    # The member reads it in the site's language, whatever language the secretary uses.
    with translation.override(settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string("emails/account_invite_subject.txt", context).split())
        text = render_to_string("emails/account_invite.txt", context)
        html = render_to_string("emails/account_invite.html", context)
    message = EmailMultiAlternatives(subject, text, to=[member.email])
    message.attach_alternative(html, "text/html")
    message.send()
    return activation


class ActivationError(ValidationError):
    """A code that cannot be used. code="invalid" says nothing about whether the member exists."""


@cache
def _dummy_hash() -> str:
    return make_password(_new_code())


def activation_find(*, identifier: str, code: str) -> AccountActivation:
    """The usable activation matching a member identifier and code; raises ActivationError.

    Each check spends one of the code's MAX_FAILED_ATTEMPTS before comparing, with a conditional
    UPDATE, so parallel guesses cannot all read the same count; a right code gives its attempt back.
    """
    code = normalise_code(code)
    member = find_member(identifier)
    activation = member.activations.filter(used_at__isnull=True, revoked_at__isnull=True).first() if member else None
    if activation is None or activation.expires_at <= timezone.now():
        check_password(code, _dummy_hash())  # same hashing work either way: no timing oracle
        raise ActivationError(_invalid_message(), code="invalid")
    spent = AccountActivation.objects.filter(pk=activation.pk, failed_attempts__lt=MAX_FAILED_ATTEMPTS).update(
        failed_attempts=F("failed_attempts") + 1
    )
    if spent != 1:
        raise ActivationError(
            _("Too many wrong tries: this code no longer works. Ask your cell secretary for a new one."),
            code="locked",
        )
    if not check_password(code, activation.code_hash):
        raise ActivationError(_invalid_message(), code="invalid")
    AccountActivation.objects.filter(pk=activation.pk).update(failed_attempts=F("failed_attempts") - 1)
    activation.member = member
    return activation


def _invalid_message() -> str:
    return _(
        "The identifier and code do not match a valid activation code. Check them; "
        "a code expires after some days and works only once."
    )


def password_check_user(member: Member) -> User:
    """The user a new password is checked against (similarity to name and e-mail)."""
    return member.user or User(username=f"m-{member.uid.hex[:12]}", first_name=member.full_name, email=member.email)


@transaction.atomic
def activation_complete(*, activation: AccountActivation, password: str) -> User:
    """Use the code once: create (or re-enable) the member's login with the chosen password."""
    member = Member.objects.select_for_update(of=("self",)).select_related("user").get(pk=activation.member_id)
    if member.ended_on:
        raise ValidationError(_("This member has left the rolls and cannot be given a login."), code="ended")
    validate_password(password, password_check_user(member))
    claimed = AccountActivation.objects.filter(
        pk=activation.pk,
        used_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
        failed_attempts__lt=MAX_FAILED_ATTEMPTS,
    ).update(used_at=timezone.now())
    if claimed != 1:
        raise ValidationError(_("This activation code has already been used or no longer works."), code="used")
    user = member.user
    if user is None:
        user = User(username=f"m-{member.uid.hex[:12]}")
    user.first_name = member.full_name[:150]
    user.email = member.email
    user.is_active = True
    user.set_password(password)
    user.save()
    if member.user_id != user.pk:
        member.user = user
        member.save(update_fields=["user"])
    preferences_follow_login(member=member, user=user)
    return user


@transaction.atomic
def account_disable(*, member: Member, by: User) -> bool:
    """Switch the member's login off and cancel unused codes. False when there was nothing to disable."""
    now = timezone.now()
    AccountActivation.objects.filter(member=member, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )
    if not member.user_id:
        return False
    return User.objects.filter(pk=member.user_id, is_active=True).update(is_active=False) == 1
