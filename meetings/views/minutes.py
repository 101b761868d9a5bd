"""The minutes (biên bản): header, each agenda item's text (autosaved), speakers, votes, closing,
addenda and the signed paper copy. Every meeting comes through meetings.access.

The cell committee writes until the minutes are closed; after that only a dated addendum and the
signed scan may be added (the services refuse everything else). Committees above read the minutes
at any time, members of the cell once they are closed (DOMAIN.md "Roles").
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from members.access import Action, can
from members.models import Member
from members.views.common import apply_service

from .. import services
from ..access import can_manage, get_meeting_for_user
from ..forms.minutes import AddendumForm, MinutesHeaderForm, SignedScanForm, SpeechForm, VoteForm
from ..models import AgendaItem, Attendance, Meeting, Speech

# --- What the pages show ------------------------------------------------------------------------


def _roll(meeting: Meeting) -> list[Member]:
    """Members who may chair, take the minutes or speak: the meeting's roll (or, before the roll
    is taken, the cell's roll on the meeting date), and whoever already holds a header role."""
    ids = set(Attendance.objects.filter(meeting=meeting).values_list("member_id", flat=True))
    if not ids and not meeting.is_closed:
        ids = set(services.roll_on(meeting.unit, services.meeting_date(meeting)))
    ids |= {pk for pk in (meeting.chair_id, meeting.minutes_secretary_id) if pk}
    return list(Member.objects.filter(pk__in=ids).order_by("search_name"))


def _duration_warning(meeting: Meeting) -> str:
    # HD 42: at least 90 minutes, 120 combined with a thematic session. A warning, never a block.
    minutes = meeting.duration_minutes
    if minutes is not None and minutes < meeting.required_minutes:
        return _("The meeting lasted %(minutes)s minutes; a meeting should last at least %(required)s.") % {
            "minutes": minutes,
            "required": meeting.required_minutes,
        }
    return ""


def _header_form(meeting: Meeting, roll: list[Member], data=None) -> MinutesHeaderForm:
    initial = {
        "chair": meeting.chair_id,
        "minutes_secretary": meeting.minutes_secretary_id,
        "actual_start": meeting.actual_start,
        "actual_end": meeting.actual_end,
    }
    return MinutesHeaderForm(data, roll=roll, initial=initial)


def _speech_form(item: AgendaItem, roll: list[Member], data=None) -> SpeechForm:
    return SpeechForm(data, roll=roll, auto_id=f"id_speech{item.pk}_%s")


def _items(meeting: Meeting) -> list[AgendaItem]:
    speeches = Speech.objects.select_related("member")
    return list(meeting.agenda.select_related("updated_by").prefetch_related(Prefetch("speeches", queryset=speeches)))


def _vote_figures(meeting: Meeting) -> dict:
    rows = list(Attendance.objects.filter(meeting=meeting).select_related("member"))
    counts = services.counts_for(meeting, rows)
    # A text passes with more than half of the voting base (Điều lệ 9.5), not of those present.
    return {"votes": list(meeting.votes.all()), "counts": counts, "pass_needed": counts.voting_base // 2 + 1}


def _votes_context(meeting: Meeting, vote_form=None, error: str = "") -> dict:
    return {
        "meeting": meeting,
        "editable": True,
        **_vote_figures(meeting),
        "vote_form": vote_form or VoteForm(auto_id="id_vote_%s"),
        "votes_error": error,
    }


def _autosave_strings() -> dict:
    return {
        "idle": _("Saves automatically as you type"),
        "saved": _("Saved %(time)s"),
        "saving": _("Saving…"),
        "dirty": _("Not saved yet"),
        "offline": _("Connection lost — will send when back online"),
        "retrying": _("Could not save — trying again"),
        "signedOut": _("Your session has ended. Sign in again in another tab; your text is kept on this device."),
        "error": _("Not saved: %(error)s Your text is kept on this device."),
        "restored": _("Restored text that had not been sent"),
        "conflict": _(
            "%(name)s saved this item while you were typing. Your text is still in the boxes below; "
            "their text is shown here."
        ),
        "conflictOld": _(
            "This device holds text that was not sent before someone else saved this item. "
            "Your unsent text is in the boxes below; the saved text is shown here."
        ),
        "conflictStatus": _("Not saved: someone else saved first — choose above"),
        "someone": _("Someone else"),
        "content": _("Content"),
        "conclusion": _("Chair's conclusion"),
        "keepMine": _("Keep mine"),
        "takeTheirs": _("Take theirs"),
    }


def _minutes_page(request, meeting: Meeting, *, status: int = 200, **bound):
    """The whole page; `bound` carries a form that failed (header_form, vote_form, speech_item and
    speech_form, or item_draft) so that what was typed is shown again with the errors."""
    editable = can_manage(request.user, meeting) and not meeting.is_closed
    roll = _roll(meeting) if editable else []
    items = _items(meeting)
    draft = bound.get("item_draft") or {}
    for item in items:
        # What the boxes show: the saved text, or the text just posted when it could not be saved.
        mine = draft if draft.get("pk") == item.pk else {}
        item.edit_version = mine.get("version", item.version)
        item.edit_content = mine.get("content", item.content)
        item.edit_conclusion = mine.get("conclusion", item.conclusion)
        item.conflict = mine.get("conflict")
        item.conflict_by = mine.get("updated_by", "")
        if editable:
            item.speech_form = bound["speech_form"] if bound.get("speech_item") == item.pk else _speech_form(item, roll)
    context = {
        "meeting": meeting,
        "editable": editable,
        "can_manage": can_manage(request.user, meeting),
        "items": items,
        **_vote_figures(meeting),
        "duration_warning": _duration_warning(meeting),
        "guest_names": list(meeting.guests.values_list("name", flat=True)),
        "addenda": list(meeting.addenda.all()) if meeting.is_closed else [],
        "autosave_strings": _autosave_strings(),
    }
    if editable:
        context["header_form"] = bound.get("header_form") or _header_form(meeting, roll)
        context["vote_form"] = bound.get("vote_form") or VoteForm(auto_id="id_vote_%s")
    return render(request, "meetings/minutes.html", context, status=status)


def _detail_url(meeting: Meeting) -> str:
    return reverse("meetings:detail", args=[meeting.uid])


def _minutes_url(meeting: Meeting, anchor: str = "") -> str:
    url = reverse("meetings:minutes", args=[meeting.uid])
    return f"{url}#{anchor}" if anchor else url


def _may_read_draft(user, meeting: Meeting) -> bool:
    # Committees above read everything in their subtree; a member reads the minutes once closed.
    return can(user, Action.VIEW_MEMBERS, meeting.unit)


def _message(exc: ValidationError) -> str:
    return " ".join(exc.messages)


# --- Pages ---------------------------------------------------------------------------------------


@login_required
def minutes(request, uid):
    meeting = get_meeting_for_user(request.user, uid)
    if not (meeting.is_closed or _may_read_draft(request.user, meeting)):
        return render(request, "meetings/minutes_pending.html", {"meeting": meeting})
    return _minutes_page(request, meeting)


@login_required
@require_POST
def minutes_header(request, uid):
    meeting = get_meeting_for_user(request.user, uid, write=True)
    roll = _roll(meeting)
    form = _header_form(meeting, roll, request.POST)
    saved = None
    if form.is_valid():
        saved = apply_service(
            form, lambda: services.minutes_header_save(meeting=meeting, by=request.user, **form.cleaned_data)
        )
    if request.htmx:
        if saved:
            meeting, form = saved, _header_form(saved, roll)
        context = {
            "meeting": meeting,
            "editable": True,
            "header_form": form,
            "header_saved": bool(saved),
            "duration_warning": _duration_warning(meeting),
        }
        return render(request, "meetings/minutes.html#header", context, status=200 if saved else 400)
    if saved:
        messages.success(request, _("The minutes header was saved."))
        return redirect(_minutes_url(meeting, "minutes-header"))
    return _minutes_page(request, meeting, header_form=form, status=400)


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@login_required
@require_POST
def item_save(request, uid, pk):
    """Autosave of one item's text. The editor names the version it started from: 200 with the
    new version, 409 with the saved text when someone else saved first (nothing is overwritten)."""
    meeting = get_meeting_for_user(request.user, uid, write=True)
    item = get_object_or_404(AgendaItem, meeting=meeting, pk=pk)
    try:
        base_version = int(request.POST.get("version", ""))
    except ValueError:
        base_version = -1
    fields = {name: request.POST[name] for name in ("content", "conclusion") if name in request.POST}
    draft = {"pk": item.pk, "version": base_version, **fields}
    try:
        saved = services.agenda_item_save(item=item, base_version=base_version, by=request.user, **fields)
    except services.Conflict as conflict:
        current = conflict.current
        by = current.updated_by
        name = (by.get_full_name() or by.username) if by else ""
        if _wants_json(request):
            return JsonResponse(
                {
                    "conflict": True,
                    "version": current.version,
                    "content": current.content,
                    "conclusion": current.conclusion,
                    "updated_by": name,
                },
                status=409,
            )
        # Without JavaScript: the page again, with this text in the boxes and the saved text
        # beside it; saving again (on the new version) keeps this text.
        draft.update(version=current.version, conflict=current, updated_by=name)
        return _minutes_page(request, meeting, item_draft=draft, status=409)
    except ValidationError as exc:
        if _wants_json(request):
            return JsonResponse({"error": _message(exc)}, status=400)
        messages.error(request, _message(exc))
        return _minutes_page(request, meeting, item_draft=draft, status=400)
    if _wants_json(request):
        return JsonResponse({"version": saved.version, "saved_at": timezone.localtime().strftime("%H:%M")})
    messages.success(request, _("Item %(order)s was saved.") % {"order": item.order})
    return redirect(_minutes_url(meeting, f"item-{item.pk}"))


def _speeches_response(request, meeting, item, form, *, ok: bool, error: str = ""):
    if request.htmx:
        item = _items_one(item)
        context = {"meeting": meeting, "editable": True, "item": item, "speech_form": form, "speeches_error": error}
        return render(request, "meetings/minutes.html#speeches", context, status=200 if ok else 400)
    if ok:
        return redirect(_minutes_url(meeting, f"item-{item.pk}"))
    if error:
        messages.error(request, error)
    return _minutes_page(request, meeting, speech_item=item.pk, speech_form=form, status=400)


def _items_one(item: AgendaItem) -> AgendaItem:
    return AgendaItem.objects.prefetch_related(
        Prefetch("speeches", queryset=Speech.objects.select_related("member"))
    ).get(pk=item.pk)


@login_required
@require_POST
def speech_add(request, uid, pk):
    meeting = get_meeting_for_user(request.user, uid, write=True)
    item = get_object_or_404(AgendaItem, meeting=meeting, pk=pk)
    roll = _roll(meeting)
    form = _speech_form(item, roll, request.POST)
    speech = None
    if form.is_valid():
        data = form.cleaned_data
        speech = apply_service(
            form,
            lambda: services.speech_add(
                item=item,
                member=data["member"],
                speaker_name=data["speaker_name"],
                summary=data["summary"],
                by=request.user,
            ),
        )
    if speech:
        form = _speech_form(item, roll)
    return _speeches_response(request, meeting, item, form, ok=bool(speech))


@login_required
@require_POST
def speech_remove(request, uid, pk):
    meeting = get_meeting_for_user(request.user, uid, write=True)
    speech = get_object_or_404(Speech.objects.select_related("item"), item__meeting=meeting, pk=pk)
    item = speech.item
    error = ""
    try:
        services.speech_remove(speech=speech, by=request.user)
    except ValidationError as exc:
        error = _message(exc)
    return _speeches_response(request, meeting, item, _speech_form(item, _roll(meeting)), ok=not error, error=error)


def _votes_response(request, meeting, form, *, ok: bool, error: str = ""):
    if request.htmx:
        context = _votes_context(meeting, None if ok else form, error)
        return render(request, "meetings/minutes.html#votes", context, status=200 if ok else 400)
    if ok:
        return redirect(_minutes_url(meeting, "votes"))
    if error:
        messages.error(request, error)
    return _minutes_page(request, meeting, vote_form=form, status=400)


@login_required
@require_POST
def vote_add(request, uid):
    meeting = get_meeting_for_user(request.user, uid, write=True)
    form = VoteForm(request.POST, auto_id="id_vote_%s")
    vote = None
    if form.is_valid():
        vote = apply_service(form, lambda: services.vote_record(meeting=meeting, by=request.user, **form.cleaned_data))
    return _votes_response(request, meeting, form, ok=bool(vote))


@login_required
@require_POST
def vote_remove(request, uid, pk):
    meeting = get_meeting_for_user(request.user, uid, write=True)
    vote = get_object_or_404(meeting.votes, pk=pk)
    error = ""
    try:
        services.vote_remove(vote=vote, by=request.user)
    except ValidationError as exc:
        error = _message(exc)
    return _votes_response(request, meeting, VoteForm(auto_id="id_vote_%s"), ok=not error, error=error)


# --- Closing, addenda, the signed copy -----------------------------------------------------------


def _close_checklist(meeting: Meeting) -> list[tuple[str, str]]:
    """The service's problems, each with the page where it is fixed."""
    header = {_("Choose the chair."), _("Choose the minutes secretary."), _("Enter the actual start time.")}
    header.add(_("Enter the end time."))
    attendance_url = reverse("meetings:attendance", args=[meeting.uid])
    problems = []
    if meeting.status not in (Meeting.Status.IN_PROGRESS, Meeting.Status.HELD) and not meeting.is_closed:
        problems.append((_("Only a meeting that was held can have its minutes closed."), _detail_url(meeting)))
    for problem in services.close_problems(meeting):
        link = _minutes_url(meeting, "minutes-header") if problem in header else attendance_url
        problems.append((problem, link))
    return problems


def _close_warnings(meeting: Meeting) -> list[str]:
    warnings = [w for w in [_duration_warning(meeting)] if w]
    empty = meeting.agenda.filter(content="", conclusion="").count()
    if empty:
        warnings.append(_("%(n)s agenda item(s) have no content and no conclusion.") % {"n": empty})
    if meeting.kind != Meeting.Kind.COMMITTEE and not meeting.votes.exists():
        warnings.append(_("No vote is recorded."))
    return warnings


@login_required
def close(request, uid):
    meeting = get_meeting_for_user(request.user, uid, write=True)
    error = ""
    if request.method == "POST":
        try:
            services.minutes_close(meeting=meeting, by=request.user)
        except ValidationError as exc:
            error = _message(exc)
        else:
            messages.success(request, _("The minutes are closed. The archived copy will not change."))
            return redirect(_detail_url(meeting))
    context = {
        "meeting": meeting,
        "problems": _close_checklist(meeting),
        "warnings": _close_warnings(meeting),
        "error": error,
    }
    return render(request, "meetings/close.html", context, status=400 if error else 200)


@login_required
def addendum_add(request, uid):
    meeting = get_meeting_for_user(request.user, uid, write=True)
    if not meeting.is_closed and request.method != "POST":
        messages.info(request, _("Addenda are for closed minutes; edit the minutes directly."))
        return redirect(_minutes_url(meeting))
    form = AddendumForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        text = form.cleaned_data["text"]
        if apply_service(form, lambda: services.addendum_add(meeting=meeting, text=text, by=request.user)):
            messages.success(request, _("The addendum was added to the minutes."))
            return redirect(_minutes_url(meeting, "addenda"))
    status = 400 if form.is_bound else 200
    return render(request, "meetings/addendum_form.html", {"meeting": meeting, "form": form}, status=status)


@login_required
def scan_upload(request, uid):
    meeting = get_meeting_for_user(request.user, uid, write=True)
    if not meeting.is_closed and request.method != "POST":
        messages.info(request, _("Upload the signed copy after closing the minutes."))
        return redirect(_minutes_url(meeting))
    form = SignedScanForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["scan"]
        if apply_service(form, lambda: services.signed_scan_upload(meeting=meeting, upload=upload, by=request.user)):
            messages.success(request, _("The signed copy was uploaded."))
            return redirect(_minutes_url(meeting, "signed-scan"))
    status = 400 if form.is_bound else 200
    return render(request, "meetings/minutes_scan.html", {"meeting": meeting, "form": form}, status=status)
