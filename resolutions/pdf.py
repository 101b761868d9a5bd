"""Resolution, consolidation report and written-consultation record as PDF (HD 36-HD/VPTW format).

Rendered through meetings.pdf.render_document (the bundled font, the shared header and signature
components), always in Vietnamese. The body's Markdown is sanitised (resolutions.text) before it
reaches the renderer, whose URL fetcher reads nothing but the bundled fonts.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from cells.models import PartyUnit
from meetings.pdf import date_words, header_for, percent, render_document

from . import reports, text
from .models import DocumentKind, Draft, Resolution, Response

KIND_TITLES = {DocumentKind.RESOLUTION: "NGHỊ QUYẾT", DocumentKind.CONCLUSION: "KẾT LUẬN"}
DECISIONS_VI = {
    Response.Decision.ACCEPTED: "Tiếp thu",
    Response.Decision.PARTLY: "Tiếp thu một phần",
    Response.Decision.NOT_ACCEPTED: "Không tiếp thu, giải trình",
}
CHOICES_VI = {"for": "Tán thành", "against": "Không tán thành", "other": "Ý kiến khác"}


def on_behalf(unit: PartyUnit) -> str:
    return "T/M CHI BỘ" if unit.kind == PartyUnit.Kind.CELL else "T/M ĐẢNG ỦY"


def rendered_sections(body: str) -> list[dict]:
    return [
        {"key": s.key, "heading": s.heading, "html": text.render_markdown(s.body)} for s in text.parse_sections(body)
    ]


def vote_sentence(votes_for, votes_against, votes_other, voting_base) -> str:
    return (
        f"tán thành {votes_for} đồng chí ({percent(votes_for, voting_base) or '0%'}); "
        f"không tán thành {votes_against} đồng chí; ý kiến khác {votes_other} đồng chí; "
        f"trên tổng số {voting_base} đảng viên có quyền biểu quyết"
    )


def resolution_context(resolution: Resolution) -> dict:
    unit = resolution.unit
    kind_title = KIND_TITLES[DocumentKind(resolution.kind)]
    return {
        "draft": False,
        "resolution": resolution,
        "header": header_for(unit, resolution.issued_on, number=resolution.number_label),
        "kind_title": kind_title,
        "document_title": f"{kind_title.capitalize()} {resolution.number_label} — {resolution.title}",
        "sections": rendered_sections(resolution.body),
        "vote": vote_sentence(
            resolution.votes_for, resolution.votes_against, resolution.votes_other, resolution.voting_base
        ),
        "passed_written": resolution.passed_by == Draft.PassedBy.WRITTEN,
        "recipients": [line for line in resolution.recipients.splitlines() if line.strip()],
        "on_behalf": on_behalf(unit),
    }


def render_resolution_pdf(resolution: Resolution) -> bytes:
    return render_document("resolutions/pdf/resolution.html", resolution_context(resolution))


def _label_decisions(data: reports.Consolidation) -> reports.Consolidation:
    for comment in data.comments:
        comment.decision_label = DECISIONS_VI.get(comment.response_row.decision, "") if comment.response_row else ""
    return data


def consolidation_context(draft: Draft) -> dict:
    data = _label_decisions(reports.consolidation(draft))
    today = timezone.localdate()
    return {
        "draft": False,
        "d": draft,
        "data": data,
        "kind_title": KIND_TITLES[DocumentKind(draft.kind)].lower(),
        "header": header_for(draft.unit, today),
        "document_title": f"Báo cáo tổng hợp ý kiến — {draft.title}",
        "decisions": DECISIONS_VI,
        "counts": {label: data.decisions.get(key, 0) for key, label in DECISIONS_VI.items()},
        "deadline": _moment(draft.comment_deadline),
        "version": draft.current_version,
        "signatures": [{"on_behalf": on_behalf(draft.unit), "role": "BÍ THƯ", "name": ""}],
    }


def render_consolidation_pdf(draft: Draft) -> bytes:
    """Báo cáo tổng hợp ý kiến (not numbered): every comment with the committee's response."""
    return render_document("resolutions/pdf/consolidation.html", consolidation_context(draft))


def _moment(moment: datetime.datetime | None) -> str:
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    return f"{local.hour} giờ {local.minute:02d}, {date_words(local.date())}"


def consultation_context(draft: Draft, resolution: Resolution | None = None) -> dict:
    from meetings import counting
    from members.models import Member

    from .services.voting import consultation_roll

    day = timezone.localdate(min(draft.vote_deadline, timezone.now())) if draft.vote_deadline else timezone.localdate()
    roll = consultation_roll(draft, day)
    votes = {v.member_id: v for v in reports.consultation_votes(draft)}
    people = Member.objects.in_bulk(list(roll))
    consulted = []
    for member_id, row in sorted(roll.items(), key=lambda item: people[item[0]].search_name):
        if row.is_attached_here:
            continue
        voter = counting.is_consultation_voter(row)
        vote = votes.get(member_id)
        if row.is_suspended:
            standing = "đình chỉ sinh hoạt"
        elif row.is_attached_elsewhere:
            standing = "sinh hoạt tạm thời nơi khác"
        elif not row.is_full:
            standing = "dự bị (góp ý, không biểu quyết)"
        else:
            standing = "chính thức" + (", miễn sinh hoạt" if row.is_exempted else "")
        consulted.append(
            {
                "name": people[member_id].full_name,
                "standing": standing,
                "voter": voter,
                "choice": CHOICES_VI.get(vote.choice, "") if vote and voter else "",
                "text": vote.text if vote and voter else "",
            }
        )
    data = _label_decisions(reports.consolidation(draft))
    issued_on = resolution.issued_on if resolution else timezone.localdate()
    return {
        "draft": False,
        "d": draft,
        "resolution": resolution,
        "header": header_for(draft.unit, issued_on),
        "document_title": f"Biên bản xin ý kiến bằng văn bản — {draft.title}",
        "kind_title": KIND_TITLES[DocumentKind(draft.kind)].lower(),
        "consulted": consulted,
        "data": data,
        "decisions": DECISIONS_VI,
        "comment_deadline": _moment(draft.comment_deadline),
        "vote_deadline": _moment(draft.vote_deadline),
        "vote": vote_sentence(
            draft.votes_for or 0, draft.votes_against or 0, draft.votes_other or 0, draft.voting_base or 0
        ),
        "passed": draft.status in (Draft.Status.PASSED, Draft.Status.ISSUED),
        "not_answered": (draft.voting_base or 0)
        - (draft.votes_for or 0)
        - (draft.votes_against or 0)
        - (draft.votes_other or 0),
        "signatures": [
            {
                "on_behalf": on_behalf(draft.unit),
                "role": resolution.signer_title if resolution else "BÍ THƯ",
                "name": resolution.signer_name if resolution else "",
            }
        ],
    }


def render_consultation_pdf(draft: Draft, resolution: Resolution | None = None) -> bytes:
    """Biên bản xin ý kiến bằng văn bản: who was consulted, comments, responses and votes."""
    return render_document("resolutions/pdf/consultation.html", consultation_context(draft, resolution))
