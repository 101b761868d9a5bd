"""Attendance, guests and dues of a meeting; QR check-in; a member's attendance history.

Every meeting comes through meetings.access, every member record through members.access. The
committee of the cell writes; the committees above read; an ordinary member of the cell sees
neither the roll nor the dues of others (403), only his own history and the check-in page.
"""

from __future__ import annotations

import uuid
from functools import cached_property
from urllib.parse import urlencode

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from cells.tree_settings import DEFAULTS, settings_for
from config.pagecache import cached_page
from members import services as member_services
from members.access import Action, can, get_member_for_user
from members.models import DuesPayment, Member
from members.views.common import apply_service

from .. import checkin, counting, services
from ..access import can_manage, get_meeting_for_user, meetings_for
from ..discipline import discipline_count
from ..forms.attendance import DEFAULT_DUES_AMOUNT, AttendanceRowForm, DuesDefaultForm, DuesRowForm, GuestForm
from ..models import Attendance, Meeting

# The page is cached under the meeting's updated_at, which every service write moves; the timeout
# only bounds what no write announces (a member renamed in the meantime).
ROWS_CACHE_SECONDS = 600
SETTINGS_CACHE_SECONDS = 60
# The page's forms, whose csrf token is rendered outside the cached fragment (form="<id>").
CSRF_FORMS = ("attendance-form", "guest-form", "sync-form", "open-form")
NOT_STARTED = (Meeting.Status.DRAFT, Meeting.Status.SCHEDULED)
WRITABLE = (Meeting.Status.IN_PROGRESS, Meeting.Status.HELD)
GUESTS_CLOSED = (Meeting.Status.CLOSED, Meeting.Status.CANCELLED)


def _require_roll_access(user, meeting: Meeting) -> None:
    """The roll names every member and how each attended: the cell's committee and those above."""
    if not can(user, Action.VIEW_MEMBERS, meeting.unit):
        raise PermissionDenied


def _is_apart(row) -> bool:
    return row.is_exempted or row.is_suspended or row.is_attached_elsewhere


class Roll:
    """The meeting's roll, read on first use: on a cache hit the page never asks for it."""

    def __init__(self, meeting: Meeting, tree_settings: dict):
        self.meeting = meeting
        self.settings = tree_settings

    @property
    def live(self) -> bool:
        # Not opened yet: the roll is computed for the meeting date and nothing is written.
        return self.meeting.status in NOT_STARTED

    @cached_property
    def rows(self) -> list[Attendance]:
        if self.live:
            roll = services.roll_on(self.meeting.unit, services.meeting_date(self.meeting))
            members = Member.objects.filter(pk__in=roll).order_by("search_name", "pk")
            return [Attendance(meeting=self.meeting, member=m, **roll[m.pk]) for m in members]
        return list(self.meeting.attendance.select_related("member").order_by("member__search_name", "member__pk"))

    @cached_property
    def counts(self) -> counting.Counts:
        return counting.count(self.rows, approved_absence_reduces=self.settings["approved_absence_reduces_voting_base"])

    @cached_property
    def main(self) -> list[Attendance]:
        return [r for r in self.rows if not _is_apart(r)]

    @cached_property
    def apart(self) -> list[Attendance]:
        return [r for r in self.rows if _is_apart(r)]

    @cached_property
    def warnings(self) -> list[str]:
        """Warnings, never blocks (DOMAIN.md "Counting": no quorum rule was found)."""
        c, threshold = self.counts, self.settings["attendance_warning_percent"]
        warnings = []
        # Warn as soon as the rate can no longer rise above the threshold, even with rows unrecorded.
        if not self.live and c.expected and (c.present + c.unrecorded) * 100 <= threshold * c.expected:
            warnings.append(
                _("Attendance is %(rate)s%%, at or below the %(threshold)s%% this tree expects.")
                % {"rate": c.rate_percent, "threshold": threshold}
            )
        if c.unexcused:
            warnings.append(
                _("%(n)s member(s) absent without reason: %(names)s.")
                % {"n": c.unexcused, "names": ", ".join(r.member.full_name for r in c.unexcused_rows)}
            )
        return warnings


def _status_buttons() -> list[tuple[str, str]]:
    return [
        (Attendance.Status.PRESENT, _("Present")),
        (Attendance.Status.ONLINE, _("Online")),
        (Attendance.Status.ABSENT_EXCUSED, _("Excused")),
        (Attendance.Status.ABSENT_UNEXCUSED, _("Unexcused")),
    ]


def _settings_key(unit) -> str:
    return f"meetings.attendance.settings.{unit.pk}"


def _tree_settings(unit, found: dict | None = None) -> dict:
    """Kept a minute in the shared cache: the page is read often during a meeting, settings change
    rarely. found: what a cache.get_many that included the key gave."""
    key = _settings_key(unit)
    if found is None:
        return cache.get_or_set(key, lambda: settings_for(unit), SETTINGS_CACHE_SECONDS)
    if key in found:
        return found[key]
    tree_settings = settings_for(unit)
    cache.set(key, tree_settings, SETTINGS_CACHE_SECONDS)
    return tree_settings


def _rights(user, meeting: Meeting) -> tuple[bool, bool, bool]:
    """May manage, may record attendance, may edit guests: all the page's rights, from the grants
    read with the user (no query)."""
    manager = can_manage(user, meeting)
    return manager, manager and meeting.status in WRITABLE, manager and meeting.status not in GUESTS_CLOSED


def _settings_vary(tree_settings: dict) -> str:
    """The tree settings the page shows (the warning threshold, the voting base rule)."""
    return "{}-{}".format(
        tree_settings["attendance_warning_percent"],
        int(bool(tree_settings["approved_absence_reduces_voting_base"])),
    )


def _page_context(request, meeting: Meeting, tree_settings: dict | None = None) -> dict:
    tree_settings = tree_settings or _tree_settings(meeting.unit)
    roll = Roll(meeting, tree_settings)
    rights = _rights(request.user, meeting)
    manager, can_write, can_edit_guests = rights
    return {
        "meeting": meeting,
        "roll": roll,
        "live": roll.live,
        "can_manage": manager,
        "can_write": can_write,
        "can_edit_guests": can_edit_guests,
        "status_buttons": _status_buttons(),
        "attendance_url": reverse("meetings:attendance", args=[meeting.uid]),
        "guests_url": reverse("meetings:guests", args=[meeting.uid]),
        # Read only when a cached fragment is rendered anew.
        "guests": meeting.guests.all(),
        "guest_form": SimpleLazyObject(GuestForm),
        # Everything the cached page depends on besides the meeting's last change, status and unit.
        "cache_vary": "{}{}{}-{}".format(*map(int, rights), _settings_vary(tree_settings)),
        "rows_cache_seconds": 0 if roll.live else ROWS_CACHE_SECONDS,
        "csrf_forms": CSRF_FORMS,
    }


@login_required
def attendance(request, uid):
    if request.method == "POST":
        return _attendance_action(request, uid)
    meeting = get_meeting_for_user(request.user, uid)
    _require_roll_access(request.user, meeting)
    if meeting.status in NOT_STARTED:  # the live roll of the meeting date: nothing kept
        return render(request, "meetings/attendance.html", _page_context(request, meeting))
    # Read again and again during the meeting: the whole page is kept per viewer under the meeting's
    # last change (config/pagecache.py); the cached fragment inside is shared by all viewers. A hit
    # needs only the key: the viewer's rights, and the tree settings read with the page (check);
    # the context is built only to render.
    tree_settings = {}

    def settings_vary(found: dict) -> str:
        tree_settings.update(_tree_settings(meeting.unit, found))
        return _settings_vary(tree_settings)

    def render_page(slots: dict):
        context = _page_context(request, meeting, tree_settings or None)
        return render(request, "meetings/attendance.html", context | slots)

    version = (
        "attendance",
        meeting.pk,
        meeting.updated_at.isoformat(),
        meeting.status,
        meeting.unit.name,
        _rights(request.user, meeting),
    )
    return cached_page(
        request,
        version,
        render_page,
        ROWS_CACHE_SECONDS,
        read_with=[_settings_key(meeting.unit)],
        check=settings_vary,
    )


def _attendance_action(request, uid):
    """The page's own buttons: open the meeting (takes the roll), refresh the roll."""
    meeting = get_meeting_for_user(request.user, uid, write=True)
    action = request.POST.get("action")
    try:
        if action == "open":
            services.meeting_open(meeting=meeting, by=request.user)
            messages.success(request, _("The meeting is open: the roll is taken and check-in is open."))
        elif action == "sync":
            services.attendance_sync(meeting=meeting)
            messages.success(request, _("The roll was refreshed for the meeting date."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    if request.POST.get("next") == "qr":
        return redirect("meetings:qr", meeting.uid)
    return redirect("meetings:attendance", meeting.uid)


@login_required
def attendance_row(request, uid, member_uid):
    meeting = get_meeting_for_user(request.user, uid, write=request.method == "POST")
    _require_roll_access(request.user, meeting)
    row = meeting.attendance.select_related("member").filter(member__uid=member_uid).first()
    if row is None:
        raise Http404
    context = _page_context(request, meeting)
    form = None
    if request.method == "POST":
        if not context["can_write"]:
            raise PermissionDenied  # the meeting has not started, or its minutes are closed
        form = AttendanceRowForm(request.POST, prefix=str(member_uid))
        if form.is_valid() and _record_row(request, form, meeting, row):
            if not request.htmx:
                return redirect(f"{context['attendance_url']}#row-{member_uid}")
            saved = next(r for r in context["roll"].rows if r.pk == row.pk)
            context.update(row=saved, oob=True)
            return render(request, "meetings/attendance_row.html", context)
    context.update(row=row, form=form, errors=_form_errors(form), typed=_typed(form))
    if request.htmx:
        context["oob"] = True
        return render(request, "meetings/attendance_row.html", context)
    return render(request, "meetings/attendance_row_page.html", context)


def _record_row(request, form: AttendanceRowForm, meeting: Meeting, row: Attendance):
    data = form.cleaned_data
    if data["status"]:
        # A tap on a status: the reason fields travel with it; late stays while present.
        kwargs = {
            "status": data["status"],
            "reason": data["reason"] if data["status"] == Attendance.Status.ABSENT_EXCUSED else "",
            "reason_approved": data["reason_approved"],
            "arrived_late": row.arrived_late,
        }
    else:
        kwargs = {
            "status": row.status,
            "reason": row.reason,
            "reason_approved": row.reason_approved,
            "arrived_late": data["late"] == "1",
        }
    return apply_service(
        form, lambda: services.attendance_record(meeting=meeting, member=row.member, by=request.user, **kwargs)
    )


def _form_errors(form) -> list[str]:
    if form is None:
        return []
    return [message for errors in form.errors.values() for message in errors]


def _typed(form) -> dict:
    """What the member's row had typed, shown again with the error (nothing typed is lost)."""
    if form is None:
        return {}
    return {
        "reason": form.data.get(form.add_prefix("reason"), ""),
        "reason_approved": bool(form.data.get(form.add_prefix("reason_approved"))),
        "open": form.data.get(form.add_prefix("status")) == Attendance.Status.ABSENT_EXCUSED,
    }


# --- Guests -------------------------------------------------------------------------------------


def _guests_response(request, meeting: Meeting, form: GuestForm | None = None):
    if not request.htmx:
        for message in _form_errors(form):
            messages.error(request, message)
        return redirect(reverse("meetings:attendance", args=[meeting.uid]) + "#guests")
    meeting.refresh_from_db(fields=["updated_at"])  # the write moved it: a new key, no stale list
    context = _page_context(request, meeting)
    context.update(oob=True, guest_form=form if form is not None and form.errors else GuestForm())
    return render(request, "meetings/attendance.html#guests", context)


@login_required
@require_POST
def guests(request, uid):
    meeting = get_meeting_for_user(request.user, uid, write=True)
    form = GuestForm(request.POST)
    if form.is_valid():
        if apply_service(form, lambda: services.guest_add(meeting=meeting, by=request.user, **form.cleaned_data)):
            form = None
    return _guests_response(request, meeting, form)


@login_required
@require_POST
def guest_remove(request, uid, pk):
    meeting = get_meeting_for_user(request.user, uid, write=True)
    guest = meeting.guests.filter(pk=pk).first()
    if guest is None:
        raise Http404
    guest.meeting = meeting
    try:
        services.guest_remove(guest=guest, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return _guests_response(request, meeting)


# --- Dues ---------------------------------------------------------------------------------------


def dues_month(meeting: Meeting) -> tuple[int, int]:
    """The month whose dues are collected at this meeting: its period, else its date's month."""
    if meeting.period_year and meeting.period_month:
        return meeting.period_year, meeting.period_month
    day = services.meeting_date(meeting)
    return day.year, day.month


def _roll_member_ids(meeting: Meeting) -> list[int]:
    if meeting.status in NOT_STARTED:
        return list(services.roll_on(meeting.unit, services.meeting_date(meeting)))
    return list(meeting.attendance.values_list("member_id", flat=True))


def _dues_rows(member_ids, year: int, month: int, default: int) -> list[dict]:
    last = DuesPayment.objects.filter(member=OuterRef("pk")).order_by("-year", "-month").values("amount")[:1]
    members = Member.objects.filter(pk__in=member_ids).annotate(last_amount=Subquery(last))
    payments = {p.member_id: p for p in DuesPayment.objects.filter(member_id__in=member_ids, year=year, month=month)}
    rows = []
    for member in members.order_by("search_name", "pk"):
        payment = payments.get(member.pk)
        # The amount offered: what was paid, else the member's last amount, else the default.
        amount = payment.amount if payment else (member.last_amount or default)
        rows.append({"member": member, "payment": payment, "amount": amount})
    return rows


def _dues_summary(member_ids, year: int, month: int) -> dict:
    paid = DuesPayment.objects.filter(member_id__in=member_ids, year=year, month=month)
    summary = paid.aggregate(total=Sum("amount"), paid_count=Count("pk"))
    return {"total": summary["total"] or 0, "paid_count": summary["paid_count"], "roll_size": len(member_ids)}


def _dues_context(request, meeting: Meeting) -> dict:
    year, month = dues_month(meeting)
    default_form = DuesDefaultForm(request.GET if "default" in request.GET else None)
    default = default_form.cleaned_data["default"] if default_form.is_valid() else DEFAULT_DUES_AMOUNT
    return {
        "meeting": meeting,
        "year": year,
        "month": month,
        "default": default,
        "default_form": default_form,
        "can_manage": can_manage(request.user, meeting),
        "can_write": can_manage(request.user, meeting) and meeting.status != Meeting.Status.CANCELLED,
        "dues_url": reverse("meetings:dues", args=[meeting.uid]),
    }


def _posted_member(request, roll_ids: list[int]) -> Member:
    try:
        member_uid = uuid.UUID(request.POST.get("member", ""))
    except ValueError:
        raise Http404 from None
    member = Member.objects.filter(uid=member_uid, pk__in=roll_ids).first()
    if member is None:
        raise Http404  # not on this meeting's roll
    return member


@login_required
def dues(request, uid):
    meeting = get_meeting_for_user(request.user, uid, write=request.method == "POST")
    _require_roll_access(request.user, meeting)
    context = _dues_context(request, meeting)
    year, month = context["year"], context["month"]
    roll_ids = _roll_member_ids(meeting)
    if request.method == "POST":
        if not context["can_write"]:
            raise PermissionDenied
        member = _posted_member(request, roll_ids)
        form = DuesRowForm(request.POST)
        done = form.is_valid() and apply_service(form, lambda: _dues_write(request, meeting, member, form, year, month))
        if not request.htmx:
            if not done:
                for message in _form_errors(form):
                    messages.error(request, f"{member.full_name}: {message}")
            query = f"?{urlencode({'default': context['default']})}" if "default" in request.GET else ""
            return redirect(f"{context['dues_url']}{query}#dues-{member.uid}")
        context.update(
            _dues_summary(roll_ids, year, month),
            row=_dues_rows([member.pk], year, month, context["default"])[0],
            errors=[] if done else _form_errors(form),
            oob=True,
        )
        return render(request, "meetings/dues_row.html", context)
    context.update(_dues_summary(roll_ids, year, month), rows=_dues_rows(roll_ids, year, month, context["default"]))
    return render(request, "meetings/dues.html", context)


def _dues_write(request, meeting: Meeting, member: Member, form: DuesRowForm, year: int, month: int):
    if form.cleaned_data["paid"] == "1":
        return member_services.dues_record(
            member=member,
            year=year,
            month=month,
            amount=form.cleaned_data["amount"],
            paid_on=services.meeting_date(meeting),
            by=request.user,
        )
    member_services.dues_remove(member=member, year=year, month=month, by=request.user)
    return True


# --- QR check-in --------------------------------------------------------------------------------


def _qr_context(request, meeting: Meeting) -> dict:
    token = checkin.make_token(meeting.uid)
    url = request.build_absolute_uri(reverse("meetings:check_in", args=[meeting.uid]) + "?" + urlencode({"t": token}))
    # segno draws only geometry from the link: nothing user-typed reaches the markup.
    svg = segno.make(url, error="m").svg_inline(border=2, omitsize=True)
    present = meeting.attendance.filter(status__in=Attendance.PRESENT_STATUSES).count()
    return {
        "meeting": meeting,
        "can_manage": True,  # the QR page is the committee's (fetched with write=True)
        "check_in_url": url,
        "qr_svg": mark_safe(svg),  # noqa: S308
        "present": present,
        "open": meeting.status == Meeting.Status.IN_PROGRESS,
        "not_started": meeting.status in NOT_STARTED,
        "refresh_seconds": 20,
    }


@login_required
@never_cache
def qr(request, uid):
    meeting = get_meeting_for_user(request.user, uid, write=True)
    return render(request, "meetings/qr.html", _qr_context(request, meeting))


@login_required
@never_cache
def qr_code(request, uid):
    meeting = get_meeting_for_user(request.user, uid, write=True)
    return render(request, "meetings/qr.html#code", _qr_context(request, meeting))


@login_required
@never_cache
def check_in(request, uid):
    meeting = get_meeting_for_user(request.user, uid)
    token = request.POST.get("t") or request.GET.get("t", "")
    member = getattr(request.user, "member", None)  # read with the user's grants, no query of its own
    row = meeting.attendance.filter(member=member).first() if member else None
    refusal, status, done = None, 200, False
    try:
        checkin.verify_token(token, meeting.uid)
    except checkin.TokenRefused as exc:
        refusal, status = str(exc), 400
    else:
        if meeting.status != Meeting.Status.IN_PROGRESS:
            refusal, status = _("Check-in is open only while the meeting is in progress."), 409
        elif row is None:
            refusal, status = _("You are not on the roll of this meeting."), 403
    if refusal is None and request.method == "POST":
        try:
            row = services.check_in(meeting=meeting, member=member)
            done = True
        except ValidationError as exc:
            refusal, status = " ".join(exc.messages), 409
    context = {"meeting": meeting, "row": row, "member": member, "token": token, "refusal": refusal, "done": done}
    return render(request, "meetings/check_in.html", context, status=status)


# --- A member's attendance history -----------------------------------------------------------------


def member_rows(user, member: Member):
    """The member's attendance rows the viewer may see: the meetings in the viewer's scope, and
    for the member himself also those of cells he has left (committee meetings excepted)."""
    rows = Attendance.objects.filter(member=member)
    visible = Q(meeting__in=meetings_for(user))
    if member.user_id and member.user_id == user.pk:
        visible |= ~Q(meeting__kind=Meeting.Kind.COMMITTEE)
    return rows.filter(visible).select_related("meeting", "meeting__unit")


def pooled_rates(rows) -> list[dict]:
    """Per year, Σpresent / Σexpected over the regular meetings held (DOMAIN.md dashboard metric)."""
    years: dict[int, dict] = {}
    for row in rows:
        m = row.meeting
        if m.kind != Meeting.Kind.REGULAR or m.status not in Meeting.HELD_STATUSES:
            continue
        year = years.setdefault(m.period_year, {"year": m.period_year, "meetings": 0, "present": 0, "expected": 0})
        year["meetings"] += 1
        year["expected"] += counting.is_expected(row)
        year["present"] += row.status in counting.PRESENT and counting.is_expected(row)
    for year in years.values():
        rate = counting.rate(year["present"], year["expected"])
        year["rate_percent"] = None if rate is None else round(rate * 100)
    return sorted(years.values(), key=lambda y: -y["year"])


def discipline_for(member: Member, year: int | None = None) -> dict:
    today = timezone.localdate()
    count = discipline_count(member, year or today.year, today=today)
    tree = settings_for(member.home_unit) if member.home_unit else DEFAULTS
    warning, alert = tree["discipline_warning_months"], tree["discipline_alert_months"]
    return {"count": count, "level": count.level(warning=warning, alert=alert), "warning": warning, "alert": alert}


@login_required
def member_attendance(request, uid):
    member = get_member_for_user(request.user, uid)
    rows = list(member_rows(request.user, member).order_by("-meeting__scheduled_start"))
    return render(
        request,
        "meetings/member_attendance.html",
        {
            "member": member,
            "rows": rows,
            "years": pooled_rates(rows),
            "discipline": discipline_for(member),
            "dues": list(DuesPayment.objects.filter(member=member).order_by("-year", "-month")),
            "is_self": member.user_id == request.user.pk,
        },
    )
