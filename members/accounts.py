"""Member logins: one-time activation codes (printed slip or e-mailed link) and their use."""

from __future__ import annotations

import datetime
import secrets

from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import AccountActivation, Member, User

# Unambiguous characters only: the code is typed from paper by people of every age.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def _new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def normalise_code(code: str) -> str:
    raw = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    return f"{raw[:4]}-{raw[4:]}"


@transaction.atomic
def activation_issue(*, member: Member, channel: str, by: User) -> tuple[AccountActivation, str]:
    """A fresh one-time code for the member; earlier unused codes stop working. Returns the code once."""
    from django.conf import settings

    if member.ended_on:
        raise ValidationError(_("This member has left the rolls and cannot be given a login."))
    if channel == AccountActivation.Channel.EMAIL and not member.email:
        raise ValidationError(_("This member has no e-mail address; print an activation slip instead."))
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


def activation_find(*, identifier: str, code: str) -> AccountActivation | None:
    """The usable activation matching a member identifier and code, counting failures."""
    from members.auth import find_member

    member = find_member(identifier)
    if member is None:
        return None
    activation = member.activations.filter(used_at__isnull=True, revoked_at__isnull=True).first()
    if activation is None or not activation.is_usable:
        return None
    if not check_password(normalise_code(code), activation.code_hash):
        AccountActivation.objects.filter(pk=activation.pk).update(failed_attempts=activation.failed_attempts + 1)
        return None
    return activation


@transaction.atomic
def activation_complete(*, activation: AccountActivation, password: str) -> User:
    """Use the code once: create (or re-enable) the member's login with the chosen password."""
    claimed = AccountActivation.objects.filter(pk=activation.pk, used_at__isnull=True).update(used_at=timezone.now())
    if claimed != 1:
        raise ValidationError(_("This activation code has already been used."))
    member = Member.objects.select_for_update().get(pk=activation.member_id)
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
    return user
