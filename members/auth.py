"""Sign-in with a party card number, a phone number, an e-mail address or a username."""

from __future__ import annotations

import datetime
import json

from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.db.models import Q, TextField
from django.db.models.expressions import RawSQL
from django.utils import timezone

from config.precompiled import PrecompiledGet
from members import access
from members.models import Member, User


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def phone_variants(value: str) -> list[str]:
    """A phone as typed, in the forms it may be stored: 0912345678 and +84 912 345 678 are one number."""
    digits = _digits(value)
    if digits.startswith("84") and len(digits) >= 11:
        return [digits, "0" + digits[2:]]
    if digits.startswith("0") and len(digits) >= 10:
        return [digits, "84" + digits[1:]]
    return [digits]


def find_member(identifier: str) -> Member | None:
    """The one member on the rolls that an identifier names, or None (unknown or ambiguous)."""
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    q = Q(card_number__iexact=identifier)
    if "@" in identifier:
        q |= Q(email__iexact=identifier)
    elif len(_digits(identifier)) >= 9:
        q |= Q(phone__in=phone_variants(identifier))
    matches = list(Member.objects.filter(q, ended_on__isnull=True).select_related("user")[:2])
    # An identifier shared by two records (a phone number in a family) cannot sign anyone in.
    return matches[0] if len(matches) == 1 else None


def _find_user(identifier: str) -> User | None:
    member = find_member(identifier)
    if member is not None and member.user_id:
        return member.user
    # Staff without a member record sign in with their username, or an e-mail that is theirs alone.
    user = User.objects.filter(username__iexact=identifier).first()
    if user is None and "@" in identifier:
        by_email = list(User.objects.filter(email__iexact=identifier)[:2])
        user = by_email[0] if len(by_email) == 1 else None
    return user


# Every signed-in request reads it: compiled once per process (config/precompiled.py). On
# PostgreSQL the user's grants for the day ride along (members.access.GRANTS_OF_USER_JSON_SQL as a
# JSON text column): one round trip instead of two on every signed-in request.
_DAY_SAMPLE = datetime.date(1901, 2, 3)


def _user_query(pk, day=_DAY_SAMPLE):
    users = User._default_manager.select_related("member").filter(pk=pk)
    if connection.vendor == "postgresql":
        sql, params = access.GRANTS_OF_USER_JSON_SQL, access.grants_of_user_params(pk, day)
        grants = RawSQL(sql, params, output_field=TextField())  # noqa: S611 - constant SQL, values are parameters
        users = users.annotate(grants_json=grants)
    return users


_USER_WITH_MEMBER = PrecompiledGet(_user_query, field="id", sample=-7_391_204, extra={"day": _DAY_SAMPLE})


class MemberLoadingMixin:
    """get_user() of every page: the login and its member record in one query (a LEFT JOIN), and on
    PostgreSQL the day's grants in the same statement.

    members.access.grants_for reads the member and the grants from there instead of asking again; a
    login without a member record is cached as None.
    """

    def get_user(self, user_id):
        day = timezone.localdate()
        user = _USER_WITH_MEMBER.get(user_id, day=day)
        if user is None or not self.user_can_authenticate(user):
            return None
        grants = getattr(user, "grants_json", None)
        if grants is not None:
            access.remember_grants(user, day, json.loads(grants))
        return user


class IdentifierBackend(MemberLoadingMixin, ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        username = username if username is not None else kwargs.get(User.USERNAME_FIELD)
        if not username or password is None:
            return None
        user = _find_user(username.strip())
        if user is None:
            User().set_password(password)  # same hashing work as a real check: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user) and not _has_left(user):
            return user
        return None


def _has_left(user: User) -> bool:
    # member_end deactivates the login; this also holds if someone re-enables it by hand.
    return Member.objects.filter(user=user, ended_on__isnull=False).exists()
