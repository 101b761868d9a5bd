"""Meeting changes plan, re-plan and cancel rows (services -> meetings/notify.py)."""

import time_machine
from django.core import mail

from meetings import services
from members.models import User
from members.notifications.delivery import send_due
from members.notifications.models import Notification

from .conftest import at, parts

NOW = at(2026, 12, 1, 9)


def rows(meeting, **filters):
    return Notification.objects.filter(object_id=meeting.pk, content_type__model="meeting", **filters)


@time_machine.travel(NOW, tick=False)
def test_scheduling_a_meeting_plans_invitation_and_reminders_for_the_roll(schedule, cast):
    meeting = schedule()
    invited = {cast.secretary_user.pk, cast.member_user.pk}
    above = {cast.ward_user.pk, cast.staff_user.pk}  # the ward committee is told in advance (DOMAIN.md "Cadence")
    announced = set(rows(meeting, kind="meetings.scheduled", channel="inbox").values_list("recipient", flat=True))
    assert announced == invited | above
    # E-mail goes to those with an address (the cast's ward logins have none).
    emailed = set(rows(meeting, kind="meetings.scheduled", channel="email").values_list("recipient", flat=True))
    with_address = set(User.objects.filter(pk__in=announced).exclude(email="").values_list("pk", flat=True))
    assert emailed == with_address and invited <= emailed
    # Reminders and materials are for those on the roll only.
    assert set(rows(meeting, kind="meetings.reminder").values_list("recipient", flat=True)) == invited
    reminders = rows(meeting, kind="meetings.reminder", channel="email")
    assert set(reminders.values_list("occurrence", flat=True)) == {"r0:2h", "r0:3d"}
    assert {r.due_at for r in reminders} == {at(2026, 12, 7, 8), at(2026, 12, 10, 6)}
    # The outsider (another cell) gets nothing.
    assert not Notification.objects.filter(recipient=cast.outsider_user).exists()


@time_machine.travel(NOW, tick=False)
def test_a_draft_meeting_tells_nobody(schedule):
    meeting = schedule(status="draft")
    assert not rows(meeting).exists()


@time_machine.travel(NOW, tick=False)
def test_scheduling_twice_the_same_plan_creates_no_duplicates(schedule):
    from meetings import notify

    meeting = schedule()
    count = Notification.objects.count()
    notify.meeting_scheduled(meeting)
    assert Notification.objects.count() == count


@time_machine.travel(NOW, tick=False)
def test_moving_a_meeting_cancels_pending_reminders_and_plans_new_ones(schedule, cast):
    meeting = schedule()
    send_due()
    meeting = services.meeting_update(meeting=meeting, scheduled_start=at(2026, 12, 12, 14), by=cast.secretary_user)
    assert meeting.revision == 1
    old = rows(meeting, kind="meetings.reminder", occurrence__startswith="r0:")
    assert set(old.values_list("state", flat=True)) == {"cancelled"}
    new = rows(meeting, kind="meetings.reminder", occurrence__startswith="r1:", state="pending")
    assert {r.due_at for r in new} == {at(2026, 12, 9, 14), at(2026, 12, 12, 12)}
    # The invitation already sent stays sent; the move is announced with the next SEQUENCE.
    assert set(rows(meeting, kind="meetings.scheduled", channel="email").values_list("state", flat=True)) == {"sent"}
    mail.outbox.clear()
    send_due()
    moved = [m for m in mail.outbox if "Thay đổi lịch họp" in m.subject]
    assert len(moved) == 2
    _message, found = parts(moved[0].raw)
    event = found["calendar"].events[0]
    assert found["calendar"]["METHOD"] == "REQUEST" and found["calendar_method"] == "REQUEST"
    assert event["SEQUENCE"] == 1 and event["UID"] == f"meeting-{meeting.uid}@chibo"
    assert event.DTSTART == at(2026, 12, 12, 14)


@time_machine.travel(NOW, tick=False)
def test_changing_only_the_topic_keeps_the_plan(schedule, cast):
    meeting = schedule()
    before = set(rows(meeting).values_list("pk", "state"))
    services.meeting_update(meeting=meeting, topic="Chuyển đổi số", by=cast.secretary_user)
    assert set(rows(meeting).values_list("pk", "state")) == before


@time_machine.travel(NOW, tick=False)
def test_cancelling_cancels_pending_rows_and_sends_cancel(schedule, cast):
    meeting = schedule()
    send_due()
    mail.outbox.clear()
    services.meeting_cancel(meeting=meeting, reason="Trùng lịch họp của phường", by=cast.secretary_user)
    assert not rows(meeting, kind="meetings.reminder", state="pending").exists()
    send_due()
    assert len(mail.outbox) == 2
    _message, found = parts(mail.outbox[0].raw)
    assert found["calendar"]["METHOD"] == "CANCEL"
    assert found["calendar"].events[0]["SEQUENCE"] == 1
    assert found["calendar"].events[0]["STATUS"] == "CANCELLED"
    assert "Hủy cuộc họp" in mail.outbox[0].subject


@time_machine.travel(NOW, tick=False)
def test_a_rolled_back_change_plans_nothing(schedule, cast):
    import pytest
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        schedule()
        raise RuntimeError
    assert not Notification.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_the_committee_above_hears_of_a_move_and_a_cancellation_but_not_of_committee_meetings(schedule, cast):
    above = {cast.ward_user.pk, cast.staff_user.pk}
    meeting = schedule()
    services.meeting_update(meeting=meeting, scheduled_start=at(2026, 12, 12, 14), by=cast.secretary_user)
    assert above <= set(rows(meeting, kind="meetings.moved").values_list("recipient", flat=True))
    services.meeting_cancel(meeting=meeting, reason="Bão", by=cast.secretary_user)
    assert above <= set(rows(meeting, kind="meetings.cancelled").values_list("recipient", flat=True))
    committee = schedule(kind="committee", start=at(2026, 12, 3, 8))
    assert not rows(committee, recipient__in=above).exists()
