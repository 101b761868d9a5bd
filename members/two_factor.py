"""Two-factor sign-in with a TOTP app (django-otp): who must use it, and a device's life cycle.

Any login may add a device. Committee and staff logins must, when the tree setting
require_two_factor_for_committee is on for a unit where they hold that role.
"""

from __future__ import annotations

from base64 import b32encode

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from cells.models import PATH_STEP, UnitSetting
from cells.tree_settings import DEFAULTS
from members import access
from members.access import Role
from members.models import User

SETTING = "require_two_factor_for_committee"
COMMITTEE_ROLES = {Role.CELL_COMMITTEE, Role.HIGHER_COMMITTEE, Role.STAFF}
# What a session still owes after its password (members.middleware): decided once, at sign-in.
SESSION_KEY = "chibo_two_factor"
NEEDS_CODE = "code"
NEEDS_SETUP = "setup"
NEEDS_CHECK = "check"  # signed in without a code: decided on the next request


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).order_by("pk").first()


def is_required(user: User) -> bool:
    """True when a unit on which the user holds a committee or staff role requires two-factor sign-in."""
    grants = [g for g in access.grants_for(user) if g.role in COMMITTEE_ROLES]
    if not grants:
        return False
    # The setting in force on a unit is the nearest row on it or an ancestor (cells.tree_settings);
    # one query for all the user's units, then the nearest row per unit.
    prefixes = {g.path[: i + PATH_STEP + 1] for g in grants for i in range(0, len(g.path), PATH_STEP + 1)}
    rows = dict(UnitSetting.objects.filter(key=SETTING, unit__path__in=prefixes).values_list("unit__path", "value"))
    for grant in grants:
        nearest = max((path for path in rows if grant.path.startswith(path)), key=len, default=None)
        if (rows[nearest] if nearest is not None else DEFAULTS[SETTING]) is True:
            return True
    return False


def session_needs(user: User) -> str | None:
    """What a session just signed in without a code still owes: the code, a device, or nothing."""
    if confirmed_device(user) is not None:
        return NEEDS_CODE
    return NEEDS_SETUP if is_required(user) else None


@transaction.atomic
def device_for_setup(*, user: User) -> TOTPDevice:
    """The unconfirmed device whose key the setup page shows: the same one until it is confirmed."""
    device = TOTPDevice.objects.select_for_update().filter(user_id=user.pk, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name="Chi bộ", confirmed=False)


@transaction.atomic
def device_confirm(*, device: TOTPDevice, code: str) -> bool:
    """Confirm a new device with a code from the app; other devices of the login are replaced."""
    if not device.verify_token(code):
        return False
    TOTPDevice.objects.filter(user_id=device.user_id).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return True


@transaction.atomic
def device_remove(*, user: User) -> int:
    deleted, _ = TOTPDevice.objects.filter(user_id=user.pk).delete()
    return deleted


def secret_for_typing(device: TOTPDevice) -> str:
    """The key in base32, in groups of four, for apps that cannot scan the QR code."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
