"""Issuing: a passed draft becomes a numbered resolution (or conclusion), printed once and archived.

Numbering (DOMAIN.md "Documents"): per issuing unit, per kind (NQ, KL) and per committee term, from
01, never reused, no gaps made by software. The number is taken from the unit's NumberSequence row
under `select_for_update` in the same transaction that creates the resolution and stores its PDF:
two people issuing at once queue on the row lock, and a failure anywhere (the PDF, a constraint)
rolls the number back with everything else. An issued resolution is never changed; an amendment is
a new resolution that names the one it amends (and may replace it).
"""

from __future__ import annotations

import datetime
import hashlib

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cells.models import PartyUnit, Term
from cells.text import fold
from cells.tree_settings import get_setting
from members.models import Position, User

from ..models import Draft, NumberSequence, Resolution
from .drafts import ensure_not_issued, lock


def document_symbol(unit: PartyUnit) -> str:
    """CB for a cell, ĐU for a party committee (configurable per tree), unless the unit names its own."""
    if unit.document_symbol:
        return unit.document_symbol
    key = "document_symbol_cell" if unit.kind == PartyUnit.Kind.CELL else "document_symbol_committee"
    return get_setting(unit, key)


def number_label(number: int, kind: str, symbol: str) -> str:
    return f"Số {number:02d}-{kind}/{symbol}"


def signer_for(unit: PartyUnit, day: datetime.date) -> tuple[str, str]:
    """(title, name) of who signs on behalf of the cell: the secretary, else the deputy."""
    positions = (
        Position.objects.filter(Position.active_on(day), unit=unit, member__isnull=False)
        .filter(role__in=(Position.Role.SECRETARY, Position.Role.DEPUTY_SECRETARY))
        .select_related("member")
    )
    by_role = {p.role: p.member.full_name for p in positions}
    if Position.Role.SECRETARY in by_role:
        return "BÍ THƯ", by_role[Position.Role.SECRETARY]
    if Position.Role.DEPUTY_SECRETARY in by_role:
        return "PHÓ BÍ THƯ", by_role[Position.Role.DEPUTY_SECRETARY]
    raise ValidationError(_("The unit has no secretary or deputy secretary on that date to sign the resolution."))


def default_recipients(unit: PartyUnit) -> str:
    lines = []
    if unit.parent_id:
        lines.append(f"- {unit.parent.short_name or unit.parent.name} (để báo cáo),")
    lines += ["- Các đảng viên trong chi bộ (để thực hiện),", "- Lưu chi bộ."]
    return "\n".join(lines)


def next_number(unit: PartyUnit, kind: str, term: Term) -> int:
    """Take the next number: create the sequence row if it is new, then lock it (call inside atomic)."""
    NumberSequence.objects.bulk_create(
        [NumberSequence(unit=unit, kind=kind, term=term, last_number=0)], ignore_conflicts=True
    )
    sequence = NumberSequence.objects.select_for_update().get(unit=unit, kind=kind, term=term)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return sequence.last_number


@transaction.atomic
def resolution_issue(
    *,
    draft: Draft,
    by: User,
    issued_on: datetime.date | None = None,
    recipients: str | None = None,
    amends: Resolution | None = None,
    supersedes: bool = False,
) -> Resolution:
    draft = lock(draft)
    ensure_not_issued(draft)
    if draft.status != Draft.Status.PASSED:
        raise ValidationError(_("Only a draft that has passed the vote can be issued."))
    unit = draft.unit
    issued_on = issued_on or timezone.localdate()
    if issued_on > timezone.localdate():
        raise ValidationError({"issued_on": _("The date of issue cannot be in the future.")})
    if draft.decided_at and issued_on < timezone.localdate(draft.decided_at):
        raise ValidationError({"issued_on": _("The date of issue cannot be before the vote.")})
    term = unit.current_term(issued_on)
    if term is None:
        raise ValidationError(
            _("Record the committee's term covering %(date)s before issuing: documents are numbered per term.")
            % {"date": issued_on.strftime("%d/%m/%Y")}
        )
    if supersedes and amends is None:
        raise ValidationError({"amends": _("Choose the resolution this one replaces.")})
    if amends is not None and amends.unit_id != unit.pk:
        raise ValidationError({"amends": _("A resolution can amend only a resolution of the same unit.")})
    signer_title, signer_name = signer_for(unit, issued_on)
    version = draft.current_version
    number = next_number(unit, draft.kind, term)
    resolution = Resolution(
        draft=draft,
        unit=unit,
        kind=draft.kind,
        term=term,
        number=number,
        number_label=number_label(number, draft.kind, document_symbol(unit)),
        issued_on=issued_on,
        place_name=_place_name(unit),
        title=version.title,
        summary=version.summary,
        body=version.body,
        search_text=fold(f"{version.title}\n{version.summary}\n{version.body}"),
        signer_title=signer_title,
        signer_name=signer_name,
        recipients=(default_recipients(unit) if recipients is None else recipients).strip(),
        meeting=draft.meeting,
        passed_by=draft.passed_by,
        votes_for=draft.votes_for,
        votes_against=draft.votes_against,
        votes_other=draft.votes_other,
        voting_base=draft.voting_base,
        amends=amends,
        supersedes=supersedes,
        issued_by=by,
    )
    _print_missing(resolution, draft)
    resolution.full_clean(exclude=["pdf", "consultation_pdf"])
    resolution.save()
    draft.status = Draft.Status.ISSUED
    draft.save()
    return resolution


def _print_missing(resolution: Resolution, draft: Draft) -> list[str]:
    """Render and attach the archived PDFs the resolution lacks (the text, and a written
    consultation's record) with their SHA-256; never replaces a stored file. Returns the fields set."""
    from ..pdf import render_consultation_pdf, render_resolution_pdf

    changed = []
    if not resolution.pdf:
        pdf = render_resolution_pdf(resolution)
        resolution.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
        resolution.pdf.save(f"nghi-quyet-{resolution.uid}.pdf", ContentFile(pdf), save=False)
        changed += ["pdf", "pdf_sha256"]
    if draft.is_written_consultation and not resolution.consultation_pdf:
        record = render_consultation_pdf(draft, resolution)
        resolution.consultation_sha256 = hashlib.sha256(record).hexdigest()
        resolution.consultation_pdf.save(f"xin-y-kien-{resolution.uid}.pdf", ContentFile(record), save=False)
        changed += ["consultation_pdf", "consultation_sha256"]
    return changed


@transaction.atomic
def archive_missing_pdfs(resolution: Resolution) -> Resolution:
    """Print and store the archived PDFs of a resolution that has none yet (bulk-loaded data).

    Issuing stores them at once; rows written in bulk (the demo and scale seeds, imports) come
    without them. The first download prints them once, under a row lock, and from then on every
    download returns exactly those bytes: a stored file is never replaced.
    """
    locked = Resolution.objects.select_for_update(of=("self",)).select_related("draft", "unit").get(pk=resolution.pk)
    changed = _print_missing(locked, locked.draft)
    if changed:
        Resolution.objects.filter(pk=locked.pk).update(**{name: getattr(locked, name) for name in changed})
    return locked


def _place_name(unit: PartyUnit) -> str:
    from meetings.pdf import place_name

    return place_name(unit)
