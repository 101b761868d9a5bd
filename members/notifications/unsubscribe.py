"""Unsubscribe links: one signed token per person and kind, put in every e-mail (the link in the
footer of e-mail to a member without a login, and RFC 8058 List-Unsubscribe headers on all).

The token is django.core.signing with its own salt, so no other signed value of the project is
accepted here. It does not expire (a reminder read a year later still offers its link), but it is
revocable: it carries a keyed digest of the address it was sent to, so it stops working when that
address changes (a mailbox passed on to someone else), and every token at once when the salt or
SECRET_KEY changes. It names the person by the member record's UUID (a login without a member
record, staff of a committee, by the user id) and never shows the address itself.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.core import signing
from django.urls import reverse
from django.utils.crypto import salted_hmac

from members.models import Member, User

from .registry import KINDS, NotificationKind

SALT = "chibo.notifications.unsubscribe"
# Stands for the token in a message built once for many recipients; delivery.personalise puts
# each recipient's token in its place (URL-safe characters only, so nothing encodes it).
TOKEN_PLACEHOLDER = "unsubscribe-token-placeholder"


def _address_tag(address: str) -> str:
    return salted_hmac(f"{SALT}.address", address.strip().lower(), algorithm="sha256").hexdigest()[:12]


def make_token(*, kind: str, address: str, member_uid: uuid.UUID | None = None, user_id: int | None = None) -> str:
    ref = f"m{member_uid.hex}" if member_uid else f"u{user_id}"
    return signing.Signer(salt=SALT).sign(f"{ref}:{kind}:{_address_tag(address)}")


def page_url(token: str) -> str:
    return reverse("members:unsubscribe", args=[token])


def one_click_url(token: str) -> str:
    return reverse("members:unsubscribe_one_click", args=[token])


@dataclass
class Subscriber:
    """Whom a token names: a login (its choice is keyed on the user) or a member without one."""

    kind: NotificationKind
    address: str
    user: User | None = None
    member: Member | None = None

    @property
    def masked_address(self) -> str:
        return mask_address(self.address)


def read_token(token: str) -> Subscriber | None:
    """The person and kind a valid token names; None for a tampered, foreign or revoked one."""
    try:
        value = signing.Signer(salt=SALT).unsign(token)
    except signing.BadSignature:
        return None
    parts = value.split(":")
    if len(parts) != 3 or parts[1] not in KINDS or not parts[0][1:]:
        return None
    ref, kind, tag = parts
    user = member = None
    if ref[0] == "m":
        try:
            member = Member.objects.select_related("user").filter(uid=uuid.UUID(ref[1:])).first()
        except ValueError:
            return None
        # A member who has a login now decides through it, as planning reads the login's choice.
        user = member.user if member is not None else None
    elif ref[0] == "u" and ref[1:].isdigit():
        user = User.objects.filter(pk=int(ref[1:])).first()
        member = getattr(user, "member", None) if user is not None else None
    if user is None and member is None:
        return None
    # The address delivery sends to: the login's, else its member record's.
    address = (user.email if user is not None else "") or (member.email if member is not None else "")
    if not address or tag != _address_tag(address):
        return None
    return Subscriber(kind=KINDS[kind], address=address, user=user, member=None if user is not None else member)


def mask_address(address: str) -> str:
    """nguyenvana@gmail.com -> ng***@gmail.com: enough to recognise, not to harvest."""
    local, at, domain = address.partition("@")
    return f"{local[:2]}***{at}{domain}"
