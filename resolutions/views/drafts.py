"""Drafts: lists, the draft page (text, sections, comments, vote), drafting, versions and the diff,
opening and closing comments, the consolidation report, the written vote and the meeting-vote link.

Every draft comes through resolutions.access (404 outside scope, 403 for a read-only role); every
write goes through resolutions.services.
"""

from __future__ import annotations

import hashlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cells.models import PartyUnit
from meetings import counting
from members.access import Action, can, get_unit_for_user, units_for
from members.views.common import apply_service, apply_transition

from .. import reports, text
from ..access import can_manage, drafts_for, get_draft_for_user, member_of, sees_all_comments, visible_comments
from ..forms.drafts import (
    CommentForm,
    DraftForm,
    MeetingVoteForm,
    OpenCommentsForm,
    VersionForm,
    VoteForm,
)
from ..models import ConsultationVote, Draft, DraftVersion
from ..services import drafts as services
from ..services import voting

PAGE_SIZE = 20
READ_METHODS = ("GET", "HEAD")
DRAFTING_UNITS = (PartyUnit.Kind.CELL, PartyUnit.Kind.GRASSROOTS_COMMITTEE)
# The usual outline of a cell's monthly resolution (document text, so Vietnamese like the PDFs);
# its anchors are the keys the tasks section and comments keep across versions.
SKELETON = """Căn cứ Điều lệ Đảng Cộng sản Việt Nam và kết quả sinh hoạt chi bộ, Chi bộ quyết nghị:

## I. Đánh giá tình hình thực hiện nhiệm vụ {#danh-gia}


## II. Nhiệm vụ và giải pháp {#nhiem-vu}
1.

## III. Tổ chức thực hiện {#to-chuc-thuc-hien}

"""


def _unit_for_drafts(user, unit_uid) -> PartyUnit:
    unit = get_unit_for_user(user, unit_uid)
    if unit.kind not in DRAFTING_UNITS or not can(user, Action.VIEW_RESOLUTIONS, unit):
        raise Http404
    return unit


def _phase(draft: Draft, now=None) -> str:
    """What a member sees: the status, with 'open' split by the clock."""
    now = now or timezone.now()
    if draft.status == Draft.Status.OPEN and draft.comment_deadline and draft.comment_deadline <= now:
        return "deadline_passed"
    if draft.status == Draft.Status.VOTING and draft.vote_deadline and draft.vote_deadline <= now:
        return "vote_deadline_passed"
    return draft.status


def _annotate_phase(rows):
    now = timezone.now()
    for draft in rows:
        draft.phase = _phase(draft, now)
    return rows


# --- Lists ------------------------------------------------------------------------------------------


@login_required
@require_GET
def home(request):
    """The member's door to resolutions: drafts awaiting my comment, then every draft in scope."""
    member = member_of(request.user)
    awaiting = _annotate_phase(list(services.awaiting_comment(member)[:50]))
    visible = (
        drafts_for(request.user)
        .select_related("unit", "current_version")
        .annotate(n_comments=Count("comments", filter=Q(comments__withdrawn=False)))
        .order_by("-created_at")
    )
    page = Paginator(visible, PAGE_SIZE).get_page(request.GET.get("page"))
    _annotate_phase(page.object_list)
    managed = PartyUnit.objects.filter(
        pk__in=units_for(request.user, Action.MANAGE_RESOLUTIONS), kind__in=DRAFTING_UNITS
    ).order_by("path")[:20]
    return render(
        request,
        "resolutions/drafts/home.html",
        {"awaiting": awaiting, "page": page, "managed": managed, "member": member},
    )


@login_required
def unit_drafts(request, unit_uid):
    unit = _unit_for_drafts(request.user, unit_uid)
    if request.method not in READ_METHODS:
        return HttpResponseNotAllowed(READ_METHODS)
    rows = (
        drafts_for(request.user)
        .filter(unit=unit)
        .select_related("unit", "current_version")
        .annotate(n_comments=Count("comments", filter=Q(comments__withdrawn=False)))
        .order_by("-created_at")
    )
    status = request.GET.get("status", "")
    if status in Draft.Status.values:
        rows = rows.filter(status=status)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    _annotate_phase(page.object_list)
    return render(
        request,
        "resolutions/drafts/unit_drafts.html",
        {
            "unit": unit,
            "page": page,
            "status": status,
            "statuses": Draft.Status.choices,
            "can_manage": can(request.user, Action.MANAGE_RESOLUTIONS, unit),
        },
    )


# --- Drafting ---------------------------------------------------------------------------------------


@login_required
def draft_create(request, unit_uid):
    unit = _unit_for_drafts(request.user, unit_uid)
    if not can(request.user, Action.MANAGE_RESOLUTIONS, unit):
        raise PermissionDenied
    form = DraftForm(request.POST or None, unit=unit, initial={"body": SKELETON})
    if request.method == "POST" and form.is_valid():
        draft = apply_service(
            form,
            lambda: services.draft_create(
                unit=unit, by=request.user, body=form.cleaned_data["body"], **form.service_fields()
            ),
        )
        if draft:
            messages.success(request, _("The draft was saved. Send it to the members when it is ready."))
            return redirect("resolutions:draft", draft.uid)
    return render(request, "resolutions/drafts/draft_form.html", {"form": form, "unit": unit, "creating": True})


@login_required
def draft_edit(request, uid):
    draft = get_draft_for_user(request.user, uid, write=True)
    if draft.status not in Draft.EDITABLE_STATUSES:
        messages.error(request, _("The draft can no longer be changed once voting has started."))
        return redirect("resolutions:draft", draft.uid)
    initial = {name: getattr(draft, name) for name in ("kind", "title", "summary", "is_written_consultation")}
    initial.update(meeting=draft.meeting_id, comment_visibility=draft.comment_visibility)
    form = DraftForm(request.POST or None, unit=draft.unit, with_body=False, initial=initial)
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        # Title and summary are part of the text: a change makes a new version.
        title, summary = fields.pop("title"), fields.pop("summary")
        updated = apply_service(form, lambda: services.draft_update(draft=draft, by=request.user, **fields))
        if updated and (title != draft.title or summary != draft.summary):
            updated = apply_service(
                form,
                lambda: services.version_add(
                    draft=draft,
                    body=draft.current_version.body,
                    title=title,
                    summary=summary,
                    change_note=_("Title changed."),
                    by=request.user,
                ),
            )
        if updated:
            messages.success(request, _("The draft was saved."))
            return redirect("resolutions:draft", draft.uid)
    return render(request, "resolutions/drafts/draft_form.html", {"form": form, "unit": draft.unit, "draft": draft})


@login_required
def version_new(request, uid):
    draft = get_draft_for_user(request.user, uid, write=True)
    if draft.status not in Draft.EDITABLE_STATUSES:
        messages.error(request, _("The text can no longer be changed once voting has started."))
        return redirect("resolutions:draft", draft.uid)
    current = draft.current_version
    form = VersionForm(
        request.POST or None, initial={"title": current.title, "summary": current.summary, "body": current.body}
    )
    if request.method == "POST" and form.is_valid():
        version = apply_service(form, lambda: services.version_add(draft=draft, by=request.user, **form.cleaned_data))
        if version:
            messages.success(request, _("Version %(n)s was published.") % {"n": version.number})
            return redirect(reverse("resolutions:diff", args=[draft.uid]) + f"?a={current.number}&b={version.number}")
    pending = reports.consolidation(draft) if draft.status != Draft.Status.DRAFT else None
    return render(
        request, "resolutions/drafts/version_form.html", {"form": form, "draft": draft, "consolidation": pending}
    )


@login_required
def diff(request, uid):
    draft = get_draft_for_user(request.user, uid)
    if request.method not in READ_METHODS:
        return HttpResponseNotAllowed(READ_METHODS)
    versions = list(draft.versions.order_by("number"))
    numbers = [v.number for v in versions]

    def pick(name, default):
        try:
            value = int(request.GET.get(name, default))
        except (TypeError, ValueError):
            value = default
        return value if value in numbers else default

    b = pick("b", numbers[-1])
    a = pick("a", max(1, b - 1))
    by_number = {v.number: v for v in versions}
    old, new = by_number[a], by_number[b]
    sections = text.diff_sections(text.parse_sections(old.body), text.parse_sections(new.body))
    return render(
        request,
        "resolutions/drafts/diff.html",
        {
            "draft": draft,
            "versions": versions,
            "old": old,
            "new": new,
            "sections": sections,
            "title_changed": old.title != new.title or old.summary != new.summary,
            "changed": sum(1 for s in sections if s.state != "unchanged"),
        },
    )


@login_required
def comments_open(request, uid):
    draft = get_draft_for_user(request.user, uid, write=True)
    if draft.status not in Draft.EDITABLE_STATUSES:
        messages.error(request, _("Comments can no longer be opened: voting has started."))
        return redirect("resolutions:draft", draft.uid)
    form = OpenCommentsForm(request.POST or None, initial={"visibility": draft.comment_visibility})
    if request.method == "POST" and form.is_valid():
        opened = apply_service(
            form,
            lambda: services.comments_open(
                draft=draft,
                deadline=form.cleaned_data["deadline"],
                visibility=form.cleaned_data["visibility"],
                by=request.user,
            ),
        )
        if opened:
            messages.success(request, _("The draft was sent to the members for comments."))
            return redirect("resolutions:draft", draft.uid)
    return render(
        request,
        "resolutions/drafts/action_form.html",
        {
            "draft": draft,
            "form": form,
            "title": _("Send for comments"),
            "question": _("Members of the cell will see the draft and can comment until the deadline."),
            "submit_label": _("Send for comments"),
        },
    )


def _transition(request, uid, call, done: str):
    return apply_transition(request, get_draft_for_user(request.user, uid, write=True), call, done, "resolutions:draft")


@login_required
@require_POST
def comments_close(request, uid):
    return _transition(
        request,
        uid,
        lambda d: services.comments_close(draft=d, by=request.user),
        _("Comments are closed."),
    )


# --- The draft page ---------------------------------------------------------------------------------


def _vote_panel(request, draft: Draft, member) -> dict:
    if not draft.is_written_consultation or draft.status not in (
        Draft.Status.VOTING,
        Draft.Status.PASSED,
        Draft.Status.REJECTED,
        Draft.Status.ISSUED,
    ):
        return {}
    roll = voting.consultation_roll(draft)
    votes = {v.member_id: v for v in ConsultationVote.objects.filter(draft=draft)}
    tally = counting.consultation_tally(roll, {m: v.choice for m, v in votes.items()})
    mine = votes.get(member.pk) if member else None
    may_vote = bool(member and member.pk in roll and counting.is_consultation_voter(roll[member.pk]))
    is_open = voting.votes_are_open(draft)
    form = None
    if is_open and may_vote:
        form = VoteForm(initial={"choice": mine.choice, "text": mine.text} if mine else None)
    return {
        "vote_open": is_open,
        "may_vote": may_vote,
        "my_vote": mine,
        "vote_form": form,
        "tally": tally,
        "tally_percent": round(tally.votes_for * 100 / tally.voting_base) if tally.voting_base else 0,
    }


@login_required
def draft_detail(request, uid):
    draft = get_draft_for_user(request.user, uid)
    if request.method not in READ_METHODS:
        return HttpResponseNotAllowed(READ_METHODS)
    member = member_of(request.user)
    version = draft.current_version
    sections = reports.sections_of(version)
    all_visible = sees_all_comments(request.user, draft)
    comments = reports.comments_of(draft, where=visible_comments(request.user, draft))
    grouped, whole = reports.group_by_section(sections, comments)
    shown = {g.key: g for g in grouped}
    rendered = [
        {
            "key": s.key,
            "heading": s.heading,
            "html": text.render_markdown(s.body),
            "comments": shown[s.key].comments if s.key in shown else [],
        }
        for s in sections
    ]
    dropped = [g for g in grouped if g.key not in {s.key for s in sections}]
    open_now = services.comments_are_open(draft)
    may_comment = open_now and services.may_comment(draft, member)
    form = None
    if may_comment:
        form = CommentForm(sections=sections, initial={"section_key": request.GET.get("section", "")})
    manage = can_manage(request.user, draft)
    resolution = getattr(draft, "resolution", None) if draft.status == Draft.Status.ISSUED else None
    context = {
        "draft": draft,
        "phase": _phase(draft),
        "version": version,
        "versions": list(draft.versions.order_by("-number").values("number", "created_at", "change_note")),
        "sections": rendered,
        "whole_comments": whole,
        "dropped": dropped,
        "comments_count": len(comments),
        "all_visible": all_visible,
        "member": member,
        "comments_open": open_now,
        "may_comment": may_comment,
        "comment_form": form,
        "can_manage": manage,
        "can_audit": can(request.user, Action.VIEW_AUDIT, draft.unit),
        "resolution": resolution,
        "meeting_vote_form": MeetingVoteForm(draft=draft)
        if manage
        and not draft.is_written_consultation
        and draft.status in (Draft.Status.OPEN, Draft.Status.CLOSED)
        and not open_now
        else None,
    }
    context.update(_vote_panel(request, draft, member))
    return render(request, "resolutions/drafts/draft_detail.html", context)


# --- Consolidation report -------------------------------------------------------------------------


@login_required
def consolidation(request, uid):
    draft = get_draft_for_user(request.user, uid)
    if not (can_manage(request.user, draft) or can(request.user, Action.VIEW_MEMBERS, draft.unit)):
        raise PermissionDenied
    if request.method not in READ_METHODS:
        return HttpResponseNotAllowed(READ_METHODS)
    from ..forms.drafts import ResponseForm

    data = reports.consolidation(draft)
    for comment in data.comments:
        if comment.response_row:
            initial = {"decision": comment.response_row.decision, "explanation": comment.response_row.explanation}
        else:
            initial = None
        comment.form = ResponseForm(initial=initial, prefix=str(comment.uid))
    return render(
        request,
        "resolutions/drafts/consolidation.html",
        {
            "draft": draft,
            "data": data,
            "can_manage": can_manage(request.user, draft) and draft.status != Draft.Status.ISSUED,
        },
    )


@login_required
def consolidation_pdf(request, uid):
    from ..pdf import render_consolidation_pdf

    draft = get_draft_for_user(request.user, uid)
    if not (can_manage(request.user, draft) or can(request.user, Action.VIEW_MEMBERS, draft.unit)):
        raise PermissionDenied
    if request.method not in READ_METHODS:
        return HttpResponseNotAllowed(READ_METHODS)
    pdf = render_consolidation_pdf(draft)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="bao-cao-tong-hop-y-kien-{draft.uid}.pdf"'
    response["ETag"] = f'"{hashlib.sha256(pdf).hexdigest()}"'
    return response


# --- Votes ------------------------------------------------------------------------------------------


@login_required
def voting_start(request, uid):
    from ..forms.drafts import DeadlineForm

    draft = get_draft_for_user(request.user, uid, write=True)
    form = DeadlineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        started = apply_service(
            form,
            lambda: voting.voting_start(draft=draft, vote_deadline=form.cleaned_data["deadline"], by=request.user),
        )
        if started:
            messages.success(request, _("Voting in writing is open."))
            return redirect("resolutions:draft", draft.uid)
    return render(
        request,
        "resolutions/drafts/action_form.html",
        {
            "draft": draft,
            "form": form,
            "title": _("Open the written vote"),
            "question": _(
                "Full members vote for, against or other opinion until the deadline and may change their vote "
                "before it."
            ),
            "submit_label": _("Open the vote"),
        },
    )


@login_required
@require_POST
def vote_cast(request, uid):
    draft = get_draft_for_user(request.user, uid)
    form = VoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose for, against or other opinion."))
        return redirect("resolutions:draft", draft.uid)
    try:
        voting.vote_cast(
            draft=draft,
            member=member_of(request.user),
            choice=form.cleaned_data["choice"],
            text_=form.cleaned_data["text"],
            by=request.user,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Your vote was recorded. You may change it until the deadline."))
    return redirect(reverse("resolutions:draft", args=[draft.uid]) + "#vote")


@login_required
@require_POST
def voting_close(request, uid):
    def close(draft):
        draft = voting.voting_close(draft=draft, by=request.user)
        if draft.status == Draft.Status.PASSED:
            messages.success(request, _("The draft passed."))
        else:
            messages.warning(request, _("The draft did not pass: votes for are not more than half of the base."))

    draft = get_draft_for_user(request.user, uid, write=True)
    try:
        close(draft)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("resolutions:draft", draft.uid)


@login_required
@require_POST
def meeting_vote_link(request, uid):
    draft = get_draft_for_user(request.user, uid, write=True)
    form = MeetingVoteForm(request.POST, draft=draft)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("resolutions:draft", draft.uid)
    try:
        draft = voting.meeting_vote_link(draft=draft, vote=form.cleaned_data["vote"], by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if draft.status == Draft.Status.PASSED:
            messages.success(request, _("The meeting's vote was recorded: the draft passed."))
        else:
            messages.warning(request, _("The meeting's vote was recorded: the draft did not pass."))
    return redirect("resolutions:draft", draft.uid)


@login_required
def version_detail(request, uid, number):
    draft = get_draft_for_user(request.user, uid)
    if request.method not in READ_METHODS:
        return HttpResponseNotAllowed(READ_METHODS)
    version = DraftVersion.objects.filter(draft=draft, number=number).first()
    if version is None:
        raise Http404
    sections = [
        {"key": s.key, "heading": s.heading, "html": text.render_markdown(s.body)} for s in reports.sections_of(version)
    ]
    return render(
        request, "resolutions/drafts/version_detail.html", {"draft": draft, "version": version, "sections": sections}
    )


# --- History ----------------------------------------------------------------------------------------


def _history_sources(draft: Draft) -> list:
    from members.audit import HistorySource
    from members.models import Member

    from ..models import Comment, ConsultationVote, Resolution, Response

    comment_ids = Comment.objects.filter(draft=draft).values("pk")
    return [
        HistorySource(Draft.history.filter(id=draft.pk), lambda row, names: str(_("The draft itself"))),
        HistorySource(
            DraftVersion.history.filter(draft_id=draft.pk),
            lambda row, names: _("Version %(n)s") % {"n": row.number},
        ),
        HistorySource(
            Comment.history.filter(draft_id=draft.pk),
            lambda row, names: _("Comment by %(name)s") % {"name": names.of(Member, row.author_id)},
        ),
        HistorySource(
            Response.history.filter(comment_id__in=comment_ids),
            lambda row, names: _("Response: %(decision)s") % {"decision": row.get_decision_display()},
        ),
        HistorySource(
            ConsultationVote.history.filter(draft_id=draft.pk),
            lambda row, names: _("Written vote of %(name)s") % {"name": names.of(Member, row.member_id)},
        ),
        HistorySource(
            Resolution.history.filter(draft_id=draft.pk),
            lambda row, names: _("Issued as %(label)s") % {"label": row.number_label},
        ),
    ]


@login_required
def draft_history(request, uid):
    from members.audit import history_page

    draft = get_draft_for_user(request.user, uid)
    if not can(request.user, Action.VIEW_AUDIT, draft.unit):
        raise PermissionDenied
    if request.method not in READ_METHODS:
        return HttpResponseNotAllowed(READ_METHODS)
    page, entries = history_page(_history_sources(draft), request.GET.get("page"))
    return render(request, "resolutions/drafts/history.html", {"draft": draft, "page": page, "entries": entries})
