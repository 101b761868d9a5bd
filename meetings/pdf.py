"""Minutes (biên bản) and addenda as PDF, in the HD 36-HD/VPTW format (DOMAIN.md "Documents").

Documents are always Vietnamese, whatever the language of the person who asks for them, so their
templates are written in Vietnamese rather than through gettext. The font is the bundled
Liberation Serif (static/fonts), loaded by @font-face: the PDF never depends on system fonts.
"""

from __future__ import annotations

import atexit
import datetime
import logging
import threading
from pathlib import Path
from urllib.request import url2pathname

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from cells.models import PartyUnit
from members.models import Member, Position

from .models import Addendum, Attendance, Meeting

FONTS_DIR = Path(settings.BASE_DIR) / "static" / "fonts"
FONTS_URL = FONTS_DIR.as_uri()

_render_lock = threading.Lock()
_renderer = None


def _get_renderer():
    """WeasyPrint with one FontConfiguration and URL fetcher per process (STACK-NOTES), made on
    first use: importing WeasyPrint takes ~0.4 s, which pages that never print should not pay."""
    global _renderer
    with _render_lock:
        if _renderer is None:
            # WeasyPrint logs every layout step at INFO; keep that out of the app's log unless
            # LOGGING sets a level for it.
            progress = logging.getLogger("weasyprint.progress")
            if progress.level == logging.NOTSET:
                progress.setLevel(logging.WARNING)
            import weasyprint
            from weasyprint.text.fonts import FontConfiguration
            from weasyprint.urls import URLFetcher

            class BundledFontsFetcher(URLFetcher):
                # Templates escape every user text, so no markup can name a URL; this makes sure
                # that nothing but the bundled fonts is ever read while rendering.
                def fetch(self, url, headers=None):
                    path = Path(url2pathname(url.removeprefix("file:"))).resolve() if url.startswith("file:") else None
                    if path is None or path.parent != FONTS_DIR.resolve():
                        raise ValueError(f"documents load only their bundled fonts, not {url}")
                    return super().fetch(url, headers)

            _renderer = (weasyprint.HTML, FontConfiguration(), BundledFontsFetcher(allowed_protocols={"file"}))
            atexit.register(_drop_renderer)
    return _renderer


def _drop_renderer():
    # Let the FontConfiguration remove its temporary font folder while the interpreter still can.
    global _renderer
    _renderer = None


def render_document(template_name: str, context: dict) -> bytes:
    """Render a document template (one that extends pdf/base.html) to PDF bytes, in Vietnamese."""
    html_class, font_config, url_fetcher = _get_renderer()
    with translation.override("vi"):
        html = render_to_string(template_name, {"fonts_url": FONTS_URL, **context})
    # A FontConfiguration is not documented as safe to share between threads: one render at a time.
    with _render_lock:
        document = html_class(string=html, base_url=FONTS_URL + "/", url_fetcher=url_fetcher)
        return document.write_pdf(font_config=font_config)


# --- Words of a Vietnamese document ----------------------------------------------------------------


def date_words(day: datetime.date) -> str:
    # HD 36-HD/VPTW: days below 10 and the months 1 and 2 take a leading zero ("ngày 05 tháng 02").
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def time_words(moment: datetime.datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local.hour} giờ {local.minute:02d}"


def place_name(unit: PartyUnit) -> str:
    """The place written before the date: the unit's own, else the nearest ancestor's."""
    if unit.place_name:
        return unit.place_name
    for ancestor in reversed(list(unit.ancestors().exclude(pk=unit.pk))):
        if ancestor.place_name:
            return ancestor.place_name
    return ""


def header_for(unit: PartyUnit, day: datetime.date, number: str = "") -> dict:
    """The standard two-column header (templates/pdf/components/header.html) of a unit's document."""
    issuing = unit.name.upper()
    if unit.kind == PartyUnit.Kind.CELL and not issuing.startswith("CHI BỘ"):
        issuing = f"CHI BỘ {issuing}"
    place = place_name(unit)
    return {
        "superior": unit.parent.name.upper() if unit.parent_id else "",
        "issuing": issuing,
        "number": number,
        "place_date": f"{place}, {date_words(day)}" if place else date_words(day).capitalize(),
    }


def comrade(name: str) -> str:
    """ "Đồng chí Lê Văn Đức", unless the name already says how to address the person."""
    if name.lower().startswith(("đồng chí", "đ/c", "ông ", "bà ")):
        return name[:1].upper() + name[1:]
    return f"Đồng chí {name}"


def guest_line(guest) -> str:
    return comrade(guest.name) + (f", {guest.title}" if guest.title else "")


def percent(part: int, whole: int) -> str:
    if not whole:
        return ""
    text = f"{part * 100 / whole:.1f}".replace(".", ",")
    return text.removesuffix(",0") + "%"


# --- Minutes ---------------------------------------------------------------------------------------

CELL_ROLES = {
    Position.Role.SECRETARY: "Bí thư chi bộ",
    Position.Role.DEPUTY_SECRETARY: "Phó Bí thư chi bộ",
    Position.Role.COMMITTEE_MEMBER: "Chi ủy viên",
    Position.Role.STANDING_MEMBER: "Chi ủy viên",
}


def minutes_title(meeting: Meeting) -> tuple[str, list[str]]:
    """Title and the summary lines in brackets below it."""
    if meeting.kind == Meeting.Kind.COMMITTEE:
        return "BIÊN BẢN HỌP CHI ỦY", [f"(Chuyên đề: {meeting.topic})"] if meeting.topic else []
    lines = []
    if meeting.kind == Meeting.Kind.REGULAR:
        lines.append(f"(Định kỳ tháng {meeting.period_month} năm {meeting.period_year})")
    elif meeting.kind == Meeting.Kind.EXTRAORDINARY:
        lines.append("(Sinh hoạt bất thường)")
    if meeting.kind == Meeting.Kind.THEMATIC or meeting.combined_thematic:
        lines.append(f"(Chuyên đề: {meeting.topic})")
    return "BIÊN BẢN SINH HOẠT CHI BỘ", lines


def _roles_on(unit: PartyUnit, day: datetime.date, member_ids) -> dict[int, str]:
    positions = (
        Position.objects.filter(unit=unit, member_id__in=[m for m in member_ids if m], start__lte=day)
        .exclude(end__lt=day)
        .values_list("member_id", "role")
    )
    roles: dict[int, str] = {}
    for member_id, role in positions:
        # Precedence as on a committee's list: the secretary's title wins.
        if role in CELL_ROLES and (
            member_id not in roles or Position.RANK.index(role) < Position.RANK.index(roles[member_id])
        ):
            roles[member_id] = role
    return {member_id: CELL_ROLES[role] for member_id, role in roles.items()}


def minutes_context(meeting: Meeting, *, draft: bool) -> dict:
    from .services import counts_for, meeting_date

    unit = meeting.unit
    day = meeting_date(meeting)
    rows = list(Attendance.objects.filter(meeting=meeting).select_related("member"))
    counts = counts_for(meeting, rows)
    people = Member.objects.in_bulk([pk for pk in (meeting.chair_id, meeting.minutes_secretary_id) if pk])
    roles = _roles_on(unit, day, people)
    title, summary = minutes_title(meeting)

    def signer(member_id):
        member = people.get(member_id)
        return {"name": member.full_name if member else "", "role": roles.get(member_id, "")}

    end = None
    if meeting.actual_end:
        end_day = timezone.localdate(meeting.actual_end)
        end = time_words(meeting.actual_end) + (" cùng ngày" if end_day == day else f", {date_words(end_day)}")
    agenda = list(meeting.agenda.prefetch_related("speeches__member"))
    for item in agenda:
        for speech in item.speeches.all():
            speech.speaker_label = comrade(speech.member.full_name if speech.member else speech.speaker_name)
    guests = list(meeting.guests.all())
    votes = [
        {
            "vote": vote,
            "percent": percent(vote.votes_for, vote.voting_base),
        }
        for vote in meeting.votes.all()
    ]
    presenters = []
    if meeting.kind == Meeting.Kind.THEMATIC or meeting.combined_thematic:
        presenters = [m.full_name for m in meeting.presenters.all()]
    return {
        "draft": draft,
        "meeting": meeting,
        "header": header_for(unit, day),
        "title": title,
        "summary": summary,
        "document_title": f"{title.capitalize()} — {unit.name} — {day:%d/%m/%Y}",
        "start": f"{time_words(meeting.actual_start or meeting.scheduled_start)}, {date_words(day)}",
        "end": end,
        "chair": signer(meeting.chair_id),
        "secretary": signer(meeting.minutes_secretary_id),
        "counts": counts,
        "delegates": [guest_line(g) for g in guests if g.is_higher_delegate],
        "guests": [guest_line(g) for g in guests if not g.is_higher_delegate],
        "presenters": presenters,
        "agenda": agenda,
        "votes": votes,
        "signatures": [
            {"role": "CHỦ TRÌ", "name": signer(meeting.chair_id)["name"]},
            {"role": "THƯ KÝ", "name": signer(meeting.minutes_secretary_id)["name"]},
        ],
    }


def render_minutes_pdf(meeting: Meeting, draft: bool = True) -> bytes:
    """The biên bản; `draft` marks it "DỰ THẢO" (every render before the minutes are closed)."""
    with translation.override("vi"):
        return render_document("meetings/pdf/minutes.html", minutes_context(meeting, draft=draft))


# --- Addenda ---------------------------------------------------------------------------------------


def addendum_context(addendum: Addendum) -> dict:
    from .services import meeting_date

    meeting = addendum.meeting
    day = timezone.localdate(addendum.created_at)
    creator = Member.objects.filter(user_id=addendum.created_by_id).first()
    user = addendum.created_by
    title, summary = minutes_title(meeting)
    number = Addendum.objects.filter(meeting=meeting, created_at__lte=addendum.created_at).count()
    return {
        "draft": False,
        "meeting": meeting,
        "addendum": addendum,
        "number": number,
        "header": header_for(meeting.unit, day),
        "minutes_title": title.capitalize(),
        "minutes_summary": " ".join(summary),
        "minutes_date": date_words(meeting_date(meeting)),
        "closed_date": date_words(timezone.localdate(meeting.closed_at)) if meeting.closed_at else "",
        "document_title": f"Phụ lục biên bản — {meeting.unit.name} — {day:%d/%m/%Y}",
        "signatures": [
            {"role": "NGƯỜI LẬP", "name": creator.full_name if creator else (user.get_full_name() or user.username)}
        ],
    }


def render_addendum_pdf(addendum: Addendum) -> bytes:
    with translation.override("vi"):
        return render_document("meetings/pdf/addendum.html", addendum_context(addendum))
