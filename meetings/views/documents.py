"""The minutes PDF, addenda and the signed scan: served only here, through the meeting accessor.

There is no public MEDIA_URL (STYLE.md "Files and documents"). Closed minutes and addenda are
archived records: the stored bytes are sent exactly as stored, after their SHA-256 is checked.
"""

import hashlib
import logging
import mimetypes

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, HttpResponseNotAllowed, HttpResponseServerError
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

from meetings.access import get_meeting_for_user
from meetings.models import Addendum, Meeting
from meetings.pdf import render_minutes_pdf
from members.access import Action, can

logger = logging.getLogger(__name__)

SAFE_METHODS = ("GET", "HEAD")


class ArchiveCheckFailed(Exception):
    """An archived file is missing or no longer matches the SHA-256 stored when it was made."""


def _archived_bytes(field, sha256: str, what: str) -> bytes:
    if not field or not sha256:
        raise ArchiveCheckFailed(f"{what}: no archived file or no SHA-256 recorded")
    try:
        with field.open("rb") as f:
            data = f.read()
    except OSError as exc:
        raise ArchiveCheckFailed(f"{what}: archived file {field.name} cannot be read ({exc})")
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise ArchiveCheckFailed(f"{what}: archived file {field.name} has SHA-256 {actual}, recorded {sha256}")
    return data


def _refuse(request, exc: ArchiveCheckFailed) -> HttpResponse:
    # Never send altered bytes: the administrators restore the file from a backup.
    logger.error("Archived document refused: %s (requested by user %s)", exc, request.user.pk)
    return HttpResponseServerError(
        _("This archived document failed its integrity check and cannot be sent. The administrators have been told."),
        content_type="text/plain; charset=utf-8",
    )


def _private(response: HttpResponse) -> HttpResponse:
    # Party records are sensitive personal data: no shared or browser cache keeps a copy.
    patch_cache_control(response, private=True, no_store=True)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _pdf(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return _private(response)


def _minutes_filename(meeting: Meeting) -> str:
    from meetings.services import meeting_date

    return f"bien-ban-{meeting_date(meeting):%Y-%m-%d}.pdf"


@login_required
def minutes_pdf(request, uid):
    meeting = get_meeting_for_user(request.user, uid)
    if request.method not in SAFE_METHODS:
        return HttpResponseNotAllowed(SAFE_METHODS)
    if not meeting.is_closed:
        # Members read closed minutes only; the draft is for the committees (DOMAIN.md roles).
        if not can(request.user, Action.VIEW_MEMBERS, meeting.unit):
            raise PermissionDenied
        return _pdf(render_minutes_pdf(meeting, draft=True), "du-thao-" + _minutes_filename(meeting))
    try:
        data = _archived_bytes(meeting.minutes_pdf, meeting.minutes_sha256, f"minutes of meeting {meeting.uid}")
    except ArchiveCheckFailed as exc:
        return _refuse(request, exc)
    return _pdf(data, _minutes_filename(meeting))


@login_required
def addendum_pdf(request, uid):
    meeting_uid = Addendum.objects.filter(uid=uid).values_list("meeting__uid", flat=True).first()
    if meeting_uid is None:
        raise Http404
    meeting = get_meeting_for_user(request.user, meeting_uid)
    if request.method not in SAFE_METHODS:
        return HttpResponseNotAllowed(SAFE_METHODS)
    addendum = Addendum.objects.get(uid=uid, meeting=meeting)
    try:
        data = _archived_bytes(addendum.pdf, addendum.sha256, f"addendum {addendum.uid}")
    except ArchiveCheckFailed as exc:
        return _refuse(request, exc)
    return _pdf(
        data, f"phu-luc-bien-ban-{timezone.localdate(addendum.created_at):%Y-%m-%d}-{str(addendum.uid)[:8]}.pdf"
    )


@login_required
def scan(request, uid):
    meeting = get_meeting_for_user(request.user, uid)
    if request.method not in SAFE_METHODS:
        return HttpResponseNotAllowed(SAFE_METHODS)
    if not meeting.signed_scan:
        raise Http404
    try:
        handle = meeting.signed_scan.open("rb")
    except OSError:
        logger.error("Signed scan of meeting %s is recorded but its file %s is missing", uid, meeting.signed_scan.name)
        raise Http404
    suffix = meeting.signed_scan.name.rsplit(".", 1)[-1].lower() if "." in meeting.signed_scan.name else ""
    filename = f"ban-ky-{_minutes_filename(meeting).removesuffix('.pdf')}" + (f".{suffix}" if suffix else "")
    content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return _private(FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type))
