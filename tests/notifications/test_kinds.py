"""Every kind, with the clock moved (time-machine): each is planned when its day comes, once."""

import datetime

import time_machine
from django.contrib.contenttypes.models import ContentType
from django.core import mail

from meetings import services
from meetings.models import Attendance, Meeting
from members import tasks
from members.models import DuesPayment, Member
from members.notifications.delivery import send_due
from members.notifications.models import Notification
from tests.factories import MemberFactory

from .conftest import at

D = datetime.date


def planned(kind, obj=None, **filters):
    rows = Notification.objects.filter(kind=kind, **filters)
    if obj is not None:
        rows = rows.filter(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk)
    return rows


def plan_at(moment):
    with time_machine.travel(moment, tick=False):
        tasks.plan_notifications()
        return send_due()


def held_regular(cast, unit, year, month, absent=(), status=Meeting.Status.HELD):
    meeting = Meeting.objects.create(
        unit=unit,
        kind=Meeting.Kind.REGULAR,
        period_year=year,
        period_month=month,
        scheduled_start=at(year, month, 10),
        place="Hội trường",
        status=status,
    )
    for member in absent:
        Attendance.objects.create(meeting=meeting, member=member, status=Attendance.Status.ABSENT_UNEXCUSED)
    return meeting


def pay_dues(member, year, months):
    DuesPayment.objects.bulk_create(
        DuesPayment(member=member, year=year, month=m, amount=10000, paid_on=D(year, m, 10)) for m in months
    )


def test_reminders_go_out_three_days_and_two_hours_before(schedule, cast):
    with time_machine.travel(at(2026, 12, 1, 9), tick=False):
        schedule(start=at(2026, 12, 10, 8))
        send_due()
    mail.outbox.clear()
    plan_at(at(2026, 12, 7, 7, 59))
    assert not [m for m in mail.outbox if m.subject.startswith("Nhắc lịch họp")]
    plan_at(at(2026, 12, 7, 8))
    assert len([m for m in mail.outbox if m.subject.startswith("Nhắc lịch họp")]) == 2
    plan_at(at(2026, 12, 10, 6))
    plan_at(at(2026, 12, 10, 6, 5))  # the sweep again: nothing twice
    assert len([m for m in mail.outbox if m.subject.startswith("Nhắc lịch họp")]) == 4
    assert planned("meetings.reminder", channel="inbox", state="sent", recipient=cast.member_user).count() == 2


def test_reminder_lead_times_are_tree_settings(schedule, cast):
    from cells.models import UnitSetting

    UnitSetting.objects.create(unit=cast.ward, key="reminder_days_before_meeting", value=5)
    with time_machine.travel(at(2026, 12, 1, 9), tick=False):
        meeting = schedule(start=at(2026, 12, 10, 8))
    dues = set(planned("meetings.reminder", meeting, channel="email").values_list("due_at", flat=True))
    assert dues == {at(2026, 12, 5, 8), at(2026, 12, 10, 6)}


def test_no_committee_meeting_in_the_14_days_before_a_regular_meeting(schedule, cast):
    with time_machine.travel(at(2026, 12, 1, 9), tick=False):
        regular = schedule(start=at(2026, 12, 20, 8))
        other_cell = schedule(start=at(2026, 12, 20, 8), unit=cast.cell_b)
    plan_at(at(2026, 12, 13, 7))  # more than 7 days before: too early to warn
    assert not planned("meetings.committee_missing").exists()
    plan_at(at(2026, 12, 13, 8))
    assert set(planned("meetings.committee_missing", regular).values_list("recipient", flat=True)) == {
        cast.secretary_user.pk
    }
    assert not planned("meetings.committee_missing", other_cell).exists()  # cell B has no committee to tell
    plan_at(at(2026, 12, 14, 8))
    assert planned("meetings.committee_missing", regular).count() == 2  # inbox + e-mail, once


def test_a_committee_meeting_in_the_window_means_no_warning(schedule, cast):
    with time_machine.travel(at(2026, 12, 1, 9), tick=False):
        schedule(start=at(2026, 12, 20, 8))
        schedule(kind=Meeting.Kind.COMMITTEE, start=at(2026, 12, 8, 14))
    plan_at(at(2026, 12, 15, 8))
    assert not planned("meetings.committee_missing").exists()


def test_regular_meeting_not_scheduled_by_day_5(cast):
    plan_at(at(2026, 12, 4, 23))
    assert not planned("meetings.regular_not_scheduled").exists()
    plan_at(at(2026, 12, 5, 0, 5))
    rows = planned("meetings.regular_not_scheduled", cast.cell_a, channel="inbox")
    assert list(rows.values_list("recipient", "occurrence")) == [(cast.secretary_user.pk, "2026-12")]
    assert "tháng 12/2026" in rows.get().subject


def test_regular_meeting_scheduled_in_time_means_no_reminder(schedule, cast):
    with time_machine.travel(at(2026, 12, 1, 9), tick=False):
        schedule(start=at(2026, 12, 20, 8))
    plan_at(at(2026, 12, 6, 9))
    assert not planned("meetings.regular_not_scheduled", cast.cell_a).exists()


def test_materials_not_available_one_day_before(schedule, cast):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from meetings import uploads

    with time_machine.travel(at(2026, 12, 1, 9), tick=False):
        bare = schedule(start=at(2026, 12, 10, 8))
        ready = schedule(start=at(2026, 12, 10, 14), kind=Meeting.Kind.THEMATIC, topic="Chuyển đổi số")
        uploads.material_add(
            meeting=ready, upload=SimpleUploadedFile("chuong-trinh.pdf", b"%PDF-1.4\n%%EOF\n"), by=cast.secretary_user
        )
    plan_at(at(2026, 12, 9, 7, 59))
    assert not planned("meetings.materials_missing").exists()
    plan_at(at(2026, 12, 9, 8))
    assert planned("meetings.materials_missing", bare, channel="inbox").get().recipient == cast.secretary_user
    plan_at(at(2026, 12, 9, 14))
    assert not planned("meetings.materials_missing", ready).exists()


def test_discipline_warning_then_alert_for_absences_and_a_new_count_in_january(cast):
    member = cast.member
    pay_dues(member, 2026, range(1, 13))
    pay_dues(member, 2027, [1])
    held_regular(cast, cast.cell_a, 2026, 10, absent=[member])
    plan_at(at(2026, 10, 20, 9))
    assert not planned("meetings.discipline_warning", member).exists()
    held_regular(cast, cast.cell_a, 2026, 11, absent=[member])
    plan_at(at(2026, 11, 20, 9))
    warning = planned("meetings.discipline_warning", member, channel="inbox").get()
    assert warning.occurrence == "2026:absence:warning" and warning.recipient == cast.secretary_user
    assert "2 tháng" in warning.subject and "tháng 10, 11" in warning.body
    held_regular(cast, cast.cell_a, 2026, 12, absent=[member])
    plan_at(at(2026, 12, 20, 9))
    plan_at(at(2026, 12, 21, 9))
    alert = planned("meetings.discipline_alert", member, channel="inbox").get()
    assert alert.occurrence == "2026:absence:alert"
    # January: the count starts again; one absence is no warning, and nothing from 2026 repeats.
    held_regular(cast, cast.cell_a, 2027, 1, absent=[member])
    plan_at(at(2027, 1, 20, 9))
    assert not planned("meetings.discipline_warning", member, occurrence__startswith="2027").exists()
    assert planned("meetings.discipline_warning", member).count() == 1  # 2026 only, once
    assert planned("meetings.discipline_alert", member).count() == 1


def test_december_dues_count_as_unpaid_only_in_january(cast):
    member = cast.member
    pay_dues(member, 2026, range(1, 11))  # November and December unpaid
    plan_at(at(2026, 12, 20, 9))  # November has ended unpaid: one month
    assert not planned("meetings.discipline_warning", member).exists()
    plan_at(at(2027, 1, 2, 9))  # December ended too: two months of 2026
    warning = planned("meetings.discipline_warning", member, channel="inbox").get()
    assert warning.occurrence == "2026:dues:warning" and "tháng 11, 12" in warning.body
    assert "chưa đóng đảng phí" in warning.subject


def test_probation_reaching_12_months(cast):
    probationer = MemberFactory(
        full_name="Vũ Thị Lan",
        cell=cast.cell_a,
        admitted_on=D(2025, 12, 10),
        full_member_on=None,
        joined_on=D(2025, 12, 10),
    )
    for other in Member.objects.exclude(pk=probationer.pk):
        pay_dues(other, 2026, range(1, 13))
    plan_at(at(2026, 12, 9, 9))
    assert not planned("meetings.probation_due").exists()
    plan_at(at(2026, 12, 10, 9))
    row = planned("meetings.probation_due", probationer, channel="inbox").get()
    assert row.recipient == cast.secretary_user and "10/12/2026" in row.body
    plan_at(at(2026, 12, 11, 9))
    assert planned("meetings.probation_due", probationer).count() == 1  # once (no e-mail address here)


def test_month_without_a_regular_meeting_tells_the_secretary_and_the_committee_above(cast):
    held_regular(cast, cast.cell_b, 2026, 11)
    plan_at(at(2026, 11, 30, 23))
    assert not planned("meetings.month_without_meeting", occurrence="2026-11").exists()
    plan_at(at(2026, 12, 1, 0, 5))
    rows = planned("meetings.month_without_meeting", cast.cell_a, channel="inbox")
    assert set(rows.values_list("recipient", flat=True)) == {
        cast.secretary_user.pk,
        cast.ward_user.pk,
        cast.staff_user.pk,
    }
    assert rows.first().occurrence == "2026-11"
    assert not planned("meetings.month_without_meeting", cast.cell_b, occurrence="2026-11").exists()  # it met


def test_a_meeting_for_the_month_still_scheduled_holds_the_message_back(schedule, cast):
    with time_machine.travel(at(2026, 11, 1, 9), tick=False):
        late = schedule(start=at(2026, 12, 2, 8), period_year=2026, period_month=11)
    plan_at(at(2026, 12, 1, 9))
    assert not planned("meetings.month_without_meeting", cast.cell_a, occurrence="2026-11").exists()
    with time_machine.travel(at(2026, 12, 1, 10), tick=False):
        services.meeting_cancel(meeting=late, reason="Mưa bão", by=cast.secretary_user)
    plan_at(at(2026, 12, 1, 11))
    assert planned("meetings.month_without_meeting", cast.cell_a, occurrence="2026-11").exists()
