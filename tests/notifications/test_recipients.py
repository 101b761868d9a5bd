"""Who is reached, and how: a login gets the inbox and e-mail; a member without a login gets
e-mail at the member record's address; a member with neither is recorded as not reached."""

import pytest
from django.db import IntegrityError
from django.utils import timezone

from members.notifications.delivery import send_due
from members.notifications.models import Notification
from tests.factories import MemberFactory

from .conftest import parts, soon


def meeting_rows(kind="meetings.scheduled", **filters):
    return Notification.objects.filter(kind=kind, **filters)


def test_member_without_a_login_gets_the_invitation_at_the_member_address(schedule, smtp_sink, cast):
    offline = MemberFactory(full_name="Lê Thị Mai", cell=cast.cell_a, email="mai@example.vn")
    schedule(start=soon())
    row = meeting_rows(member=offline).get()
    assert row.channel == "email" and row.recipient is None and row.state == "pending"
    assert not meeting_rows(member=offline, channel="inbox").exists()  # the inbox needs a login
    assert meeting_rows(kind="meetings.reminder", member=offline).count() == 2  # 3 days and 2 hours before
    result = send_due()
    assert result.sent == 3, list(Notification.objects.exclude(last_error="").values_list("last_error", flat=True))
    received = smtp_sink.to("mai@example.vn")
    assert len(received) == 1 and parts(received[0])[0]["To"] == "mai@example.vn"
    # No link to a page she cannot open, no word of settings or an inbox she does not have; the
    # calendar entry and the text are there.
    message, found = parts(received[0])
    assert "Mở trên Chi bộ" not in found["text/html"] and "/meetings/" not in found["text/plain"]
    assert "Cài đặt thông báo" not in found["text/html"] and "chi bộ đang lưu cho đồng chí" in found["text/html"]
    assert found["calendar"]["METHOD"] == "REQUEST" and "Nhà văn hóa khu phố 1" in found["text/plain"]
    members_copy = parts(smtp_sink.to("duc@example.vn")[0])[1]
    assert "Mở trên Chi bộ" in members_copy["text/html"] and "Cài đặt thông báo" in members_copy["text/html"]
    row.refresh_from_db()
    assert row.state == "sent"


def test_member_without_login_or_address_is_recorded_as_not_reached(schedule, smtp_sink, cast, admin_client):
    unreachable = MemberFactory(full_name="Trần Văn Hòa", cell=cast.cell_a, email="")
    schedule(start=soon())
    row = meeting_rows(member=unreachable).get()
    assert row.state == "failed" and row.last_error == "no login and no e-mail address"
    assert send_due().failed == 0  # nothing is tried for it, and it is not lost either
    row.refresh_from_db()
    assert row.state == "failed"
    # The administrator finds who was not reached.
    from django.urls import reverse

    page = admin_client.get(reverse("admin:members_notification_changelist") + "?state=failed").content.decode()
    assert "Trần Văn Hòa" in page


def test_member_of_another_cell_without_login_gets_nothing(schedule, smtp_sink, cast):
    MemberFactory(full_name="Phạm Văn Bình", cell=cast.cell_b, email="binh@example.vn")
    schedule(start=soon())
    assert not meeting_rows(member__isnull=False).exists()


def test_a_member_whose_login_exists_is_reached_through_the_login_only(schedule, cast):
    cast.member.email = "ducmember@example.vn"
    cast.member.save(update_fields=["email"])
    schedule(start=soon())
    assert not meeting_rows(member=cast.member).exists()
    assert meeting_rows(recipient=cast.member_user, channel="email").count() == 1


def test_an_inbox_row_without_a_login_is_refused_by_the_database(schedule, cast):
    schedule(start=soon())
    row = meeting_rows(recipient=cast.member_user, channel="email").get()
    with pytest.raises(IntegrityError):
        Notification.objects.create(
            member=cast.member, channel="inbox", kind=row.kind, content_type=row.content_type,
            object_id=row.object_id, occurrence="x", due_at=timezone.now(), message=row.message,
        )  # fmt: skip


def test_planning_twice_keeps_one_row_for_a_member_without_a_login(schedule, cast):
    from meetings import notify

    MemberFactory(full_name="Lê Thị Mai", cell=cast.cell_a, email="mai@example.vn")
    meeting = schedule(start=soon())
    before = meeting_rows(member__isnull=False).count()
    notify.meeting_scheduled(meeting)
    assert meeting_rows(member__isnull=False).count() == before == 1


def test_pipelined_sending_delivers_each_message_once(schedule, smtp_sink, cast):
    smtp_sink.pipelining = True
    MemberFactory(full_name="Lê Thị Mai", cell=cast.cell_a, email="mai@example.vn")
    schedule(start=soon())
    assert send_due().sent == 3 and send_due().sent == 0
    assert sorted(r for rcpts, _ in smtp_sink.messages for r in rcpts) == [
        "duc@example.vn", "hang@example.vn", "mai@example.vn",
    ]  # fmt: skip
    message, found = parts(smtp_sink.to("duc@example.vn")[0])
    assert message["To"] == "duc@example.vn" and found["calendar"]["METHOD"] == "REQUEST"


def test_pipelined_refusals_are_retried_per_row(schedule, smtp_sink, cast):
    smtp_sink.pipelining = True
    smtp_sink.refuse_rcpt = "450 4.2.1 Mailbox busy"
    schedule(start=soon())
    result = send_due()
    assert result.retried == 2 and result.sent == 0
    assert set(meeting_rows(channel="email").values_list("last_error", flat=True)) == {
        "SMTPRecipientsRefused: {'duc@example.vn': (450, b'4.2.1 Mailbox busy')}",
        "SMTPRecipientsRefused: {'hang@example.vn': (450, b'4.2.1 Mailbox busy')}",
    }
    smtp_sink.refuse_rcpt = None
    smtp_sink.refuse = "554 5.7.1 Rejected"
    later = timezone.now() + timezone.timedelta(hours=1)
    assert send_due(now=later).retried == 2
    assert {e[:18] for e in meeting_rows(channel="email").values_list("last_error", flat=True)} == {
        "SMTPDataError: 554"
    }
    smtp_sink.refuse = None
    assert send_due(now=later + timezone.timedelta(hours=1)).sent == 2
    assert len(smtp_sink.messages) == 2


@pytest.mark.parametrize("pipelining", [False, True])
def test_one_refused_address_does_not_hold_back_the_rest_of_the_batch(schedule, smtp_sink, cast, pipelining):
    # smtplib's refusals are OSErrors too: taken for a lost connection, one bad address used to
    # send the whole rest of the batch back to the queue with its error.
    smtp_sink.pipelining = pipelining
    smtp_sink.refuse_rcpt, smtp_sink.refuse_only = "550 5.1.1 No such user", {"duc@example.vn"}
    MemberFactory(full_name="Lê Thị Mai", cell=cast.cell_a, email="mai@example.vn")
    schedule(start=soon())
    result = send_due()
    assert result.sent == 2 and result.retried == 1
    assert sorted(r for rcpts, _ in smtp_sink.messages for r in rcpts) == ["hang@example.vn", "mai@example.vn"]
    refused = meeting_rows(channel="email", state="pending").get()
    assert refused.recipient == cast.member_user and "550" in refused.last_error


def test_a_committee_member_without_a_login_gets_the_committee_reminders_by_email(cast):
    import time_machine

    from members import tasks
    from members.models import Position
    from tests.factories import PositionFactory

    from .conftest import at

    deputy = MemberFactory(full_name="Võ Thị Lan", cell=cast.cell_a, email="lan@example.vn")
    PositionFactory(unit=cast.cell_a, role=Position.Role.DEPUTY_SECRETARY, member=deputy)
    with time_machine.travel(at(2026, 12, 5, 0, 5), tick=False):
        tasks.plan_notifications()
    rows = Notification.objects.filter(kind="meetings.regular_not_scheduled", object_id=cast.cell_a.pk)
    assert set(rows.values_list("recipient", "member", "channel")) == {
        (cast.secretary_user.pk, None, "inbox"),
        (None, deputy.pk, "email"),
    }


def test_a_committee_meeting_invites_a_committee_member_without_a_login_by_email(schedule, cast):
    from meetings.models import Meeting
    from members.models import Position
    from tests.factories import PositionFactory

    deputy = MemberFactory(full_name="Võ Thị Lan", cell=cast.cell_a, email="lan@example.vn")
    PositionFactory(unit=cast.cell_a, role=Position.Role.DEPUTY_SECRETARY, member=deputy)
    schedule(kind=Meeting.Kind.COMMITTEE, start=soon())
    assert meeting_rows(member=deputy).get().channel == "email"
    assert not meeting_rows(member__isnull=False).exclude(member=deputy).exists()
