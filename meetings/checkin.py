"""Signed, short-lived check-in tokens for a meeting's QR code.

The code shown on the committee's screen changes every SLOT_SECONDS. A token names the meeting
and its time slot and is signed with the project's secret (salt SALT), so it cannot be made up
or moved to another meeting. The current and the previous slot are accepted, so a member who
scans just before the code changes is not refused; nothing older than MAX_AGE passes.
"""

from __future__ import annotations

import time

from django.core import signing
from django.utils.translation import gettext_lazy as _

SALT = "meetings.checkin"
SLOT_SECONDS = 60
MAX_AGE = 120


class TokenRefused(Exception):
    """Why a token was refused: `code` for programs, the message for people."""

    MESSAGES = {
        "forged": _("This check-in code is not valid. Scan the code on the committee's screen again."),
        "expired": _("This check-in code has expired. Scan the code on the committee's screen again."),
        "other_meeting": _("This check-in code belongs to another meeting."),
    }

    def __init__(self, code: str):
        super().__init__(str(self.MESSAGES[code]))
        self.code = code


def current_slot(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // SLOT_SECONDS)


def make_token(meeting_uid, now: float | None = None) -> str:
    # The signer's own timestamp (for max_age) comes from time.time(); `now` only picks the slot.
    return signing.dumps([str(meeting_uid), current_slot(now)], salt=SALT, compress=True)


def verify_token(token: str, meeting_uid, now: float | None = None) -> None:
    """Return quietly for a good token of this meeting; raise TokenRefused otherwise."""
    try:
        uid, slot = signing.loads(token or "", salt=SALT, max_age=MAX_AGE)
    except signing.SignatureExpired:
        raise TokenRefused("expired") from None
    except (signing.BadSignature, TypeError, ValueError):
        raise TokenRefused("forged") from None
    if uid != str(meeting_uid):
        raise TokenRefused("other_meeting")
    if not isinstance(slot, int) or current_slot(now) - slot not in (0, 1):
        raise TokenRefused("expired")
