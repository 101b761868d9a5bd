"""Meeting materials: what may be uploaded (checked by content, never by the name the phone sends),
and the writes that add and remove them.

Only PDF, DOCX, XLSX, JPEG and PNG are accepted: the documents a cell circulates (agenda, draft
resolution, a thematic presentation, a photo of a paper). The file's first bytes decide its type,
and the name's extension must agree, so a renamed program or a PNG called "du-thao.pdf" is refused.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
import zipfile
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import User

from .models import Material, Meeting

MAX_MATERIAL_BYTES = 10 * 1024 * 1024
MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class Kind:
    content_type: str
    extensions: tuple[str, ...]


PDF = Kind("application/pdf", (".pdf",))
DOCX = Kind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",))
XLSX = Kind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",))
JPEG = Kind("image/jpeg", (".jpg", ".jpeg"))
PNG = Kind("image/png", (".png",))
ACCEPT = ",".join(ext for kind in (PDF, DOCX, XLSX, JPEG, PNG) for ext in kind.extensions)


def _office_kind(upload) -> Kind | None:
    """DOCX and XLSX are zip packages: the part folders tell a document from a workbook."""
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as package:
            names = package.namelist()  # reads the central directory only, never inflates
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    if "[Content_Types].xml" not in names or any(n.lower().endswith("vbaproject.bin") for n in names):
        return None  # not an Office package, or one carrying macros (.docm/.xlsm renamed)
    if any(n.startswith("word/") for n in names):
        return DOCX
    if any(n.startswith("xl/") for n in names):
        return XLSX
    return None


def detect_kind(upload) -> Kind | None:
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"PK\x03\x04"):
        return _office_kind(upload)
    return None


_UNSAFE = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;]+')


def clean_name(name: str) -> str:
    """The name shown and offered on download: NFC, no folders, no characters that break a header
    or a Windows file name; Vietnamese letters kept."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = _UNSAFE.sub(" ", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    stem, ext = os.path.splitext(name)
    ext = ext.lower()
    stem = stem[: MAX_NAME_LENGTH - len(ext)].rstrip(" .") or "tai-lieu"
    return f"{stem}{ext}"


def validate_material(upload) -> tuple[Kind, str]:
    """(kind, clean name) of an acceptable upload, else ValidationError with a reason a secretary
    understands."""
    if upload.size > MAX_MATERIAL_BYTES:
        raise ValidationError(
            _("The file is %(size)s; the limit is %(limit)s.")
            % {"size": filesizeformat(upload.size), "limit": filesizeformat(MAX_MATERIAL_BYTES)}
        )
    if upload.size == 0:
        raise ValidationError(_("The file is empty."))
    name = clean_name(upload.name)
    kind = detect_kind(upload)
    if kind is None:
        raise ValidationError(_("Only PDF, Word (.docx), Excel (.xlsx), JPEG and PNG files can be attached."))
    if os.path.splitext(name)[1] not in kind.extensions:
        raise ValidationError(
            _("The file's name does not match its content (the content is %(ext)s); rename it and try again.")
            % {"ext": kind.extensions[0]}
        )
    return kind, name


def _sha256(upload) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def _writable_meeting(meeting: Meeting) -> Meeting:
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.status == Meeting.Status.CLOSED:
        raise ValidationError(_("The minutes of this meeting are closed; its materials can no longer change."))
    if meeting.status == Meeting.Status.CANCELLED:
        raise ValidationError(_("This meeting was cancelled."))
    return meeting


@transaction.atomic
def material_add(*, meeting: Meeting, upload, by: User) -> Material:
    meeting = _writable_meeting(meeting)
    kind, name = validate_material(upload)
    material = Material(
        meeting=meeting,
        original_name=name,
        content_type=kind.content_type,
        size=upload.size,
        sha256=_sha256(upload),
        uploaded_by=by,
    )
    # Stored under a random name: the original one may say more than a file system should.
    material.file.save(f"{material.uid}{os.path.splitext(name)[1]}", upload, save=False)
    material.save()
    Meeting.objects.filter(pk=meeting.pk).update(updated_at=timezone.now())
    return material


@transaction.atomic
def material_remove(*, material: Material, by: User) -> None:
    meeting = _writable_meeting(material.meeting)
    storage, path = material.file.storage, material.file.name
    material.delete()
    Meeting.objects.filter(pk=meeting.pk).update(updated_at=timezone.now())
    transaction.on_commit(lambda: storage.delete(path))
