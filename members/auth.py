"""Sign-in with an e-mail address, a phone number or a party card number."""

from django.contrib.auth.backends import ModelBackend
from django.db.models import Q

from members.models import Member, User


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def find_member(identifier: str) -> Member | None:
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    q = Q(card_number__iexact=identifier)
    if "@" in identifier:
        q |= Q(email__iexact=identifier)
    elif len(_digits(identifier)) >= 9:
        q |= Q(phone=_digits(identifier))
    matches = list(Member.objects.filter(q, ended_on__isnull=True)[:2])
    # An identifier shared by two records (a phone number in a family) cannot sign anyone in.
    return matches[0] if len(matches) == 1 else None


class IdentifierBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or password is None:
            return None
        user = None
        member = find_member(username)
        if member is not None and member.user_id:
            user = member.user
        if user is None:
            user = User.objects.filter(Q(username__iexact=username) | Q(email__iexact=username)).first()
            if user is not None and User.objects.filter(email__iexact=username).count() > 1:
                user = User.objects.filter(username__iexact=username).first()
        if user is None:
            User().set_password(password)  # same work as a real check: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
