"""Sending to a real SMTP server (aiosmtpd on 127.0.0.1): exactly once, retries, failures kept."""

import datetime
import threading

import pytest
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from members import tasks
from members.notifications.delivery import send_due
from members.notifications.models import Notification
from tests.factories import UserFactory

from .conftest import parts, soon


def email_rows(**filters):
    return Notification.objects.filter(channel="email", **filters)


def test_invitation_arrives_once_with_html_text_and_ics_in_ho_chi_minh_time(schedule, smtp_sink, cast):
    meeting = schedule(start=soon())
    tasks.send_due_notifications()
    tasks.send_due_notifications()  # run twice, as a retried task would
    received = smtp_sink.to("duc@example.vn")
    assert len(received) == 1 and len(smtp_sink.to("hang@example.vn")) == 1
    assert not smtp_sink.to("bao@example.vn")  # the outsider's cell
    message, found = parts(received[0])
    assert message["Subject"].strip().startswith("Thông báo lịch họp: Sinh hoạt chi bộ định kỳ")
    assert message["To"] == "duc@example.vn"
    assert "Nhà văn hóa khu phố 1" in found["text/plain"] and "Nhà văn hóa khu phố 1" in found["text/html"]
    calendar = found["calendar"]
    assert calendar["METHOD"] == "REQUEST"
    event = calendar.events[0]
    assert event["UID"] == f"meeting-{meeting.uid}@chibo" and event["SEQUENCE"] == 0
    start = event.DTSTART
    assert start.tzinfo.key == "Asia/Ho_Chi_Minh" and start == meeting.scheduled_start
    assert event["DTSTART"].params["TZID"] == "Asia/Ho_Chi_Minh"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Asia/Ho_Chi_Minh"]
    # Each copy has its own Message-ID.
    assert parts(smtp_sink.to("hang@example.vn")[0])[0]["Message-ID"] != message["Message-ID"]
    assert set(email_rows(kind="meetings.scheduled").values_list("state", flat=True)) == {"sent"}


def test_a_second_worker_claims_none_of_the_rows_the_first_holds(schedule, smtp_sink):
    from members.notifications.delivery import claim, send_batch

    schedule(start=soon())
    now = timezone.now()
    token_a, rows_a = claim(now, batch_size=1)
    token_b, rows_b = claim(now, batch_size=10)
    assert len(rows_a) == 1 and len(rows_b) == 1 and rows_a[0].pk != rows_b[0].pk
    assert claim(now)[1] == []
    send_batch(token_b, rows_b, now)
    send_batch(token_a, rows_a, now)
    assert send_due(now=now).sent == 0  # a retried sweep finds nothing left to send
    assert len(smtp_sink.messages) == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("pipelining", [False, True])
def test_two_workers_sweeping_at_once_send_each_message_once(emails, smtp_sink, settings, pipelining):
    from django.db import connection

    smtp_sink.pipelining = pipelining

    from meetings import services

    if connection.vendor != "postgresql":
        pytest.skip("two sweeps at once need PostgreSQL (DATABASE_URL=postgres://…); SQLite serialises writers")

    # 30 members with logins in cell A: 32 invitations to share between two sweeps.
    from tests.factories import MemberFactory

    for i in range(30):
        member = MemberFactory(full_name=f"Đảng viên {i}", cell=emails.cell_a)
        member.user = UserFactory(username=f"dv{i}", email=f"dv{i}@example.vn")
        member.save(update_fields=["user"])
    services.meeting_schedule(
        unit=emails.cell_a,
        kind="regular",
        scheduled_start=soon(),
        place="Hội trường",
        by=emails.secretary_user,
    )
    expected = email_rows(kind="meetings.scheduled").count()
    assert expected == 32
    barrier = threading.Barrier(2)
    errors = []

    def sweep():
        try:
            barrier.wait()
            send_due(batch_size=5)
        except Exception as exc:  # pragma: no cover - shown by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    recipients = [r for rcpts, _ in smtp_sink.messages for r in rcpts]
    assert len(recipients) == expected and len(set(recipients)) == expected
    assert email_rows(kind="meetings.scheduled", state="sent").count() == expected


def test_refusing_server_leads_to_retries_with_backoff_then_failed_and_the_row_stays(
    schedule, smtp_sink, settings, cast, admin_client
):
    settings.CHIBO_NOTIFICATION_MAX_ATTEMPTS = 3
    smtp_sink.refuse = "451 4.3.0 Mailbox busy, try again later"
    schedule(start=soon())
    now = timezone.now()
    result = send_due(now=now)
    assert result.retried == 2 and result.sent == 0
    row = email_rows(kind="meetings.scheduled", recipient=cast.member_user).get()
    assert row.state == "pending" and row.attempts == 1 and "451" in row.last_error
    assert now + datetime.timedelta(seconds=59) < row.due_at < now + datetime.timedelta(seconds=76)
    tried = smtp_sink.attempts
    assert send_due(now=now).sent == 0  # not due again yet: nothing is tried
    assert smtp_sink.attempts == tried and not smtp_sink.messages
    row_2 = send_due(now=now + datetime.timedelta(minutes=2))
    assert row_2.retried == 2
    row.refresh_from_db()
    assert row.attempts == 2 and row.due_at > now + datetime.timedelta(minutes=3)  # doubled
    final = send_due(now=now + datetime.timedelta(hours=1))
    assert final.failed == 2
    row.refresh_from_db()
    assert row.state == "failed" and row.attempts == 3 and "451" in row.last_error
    assert send_due(now=now + datetime.timedelta(days=1)).failed == 0  # failed rows are not retried
    # The administrator sees it, with the error, and can put it back in the queue.
    changelist = admin_client.get(reverse("admin:members_notification_changelist") + "?state=failed")
    assert "Thông báo lịch họp" in changelist.content.decode()
    change = admin_client.get(reverse("admin:members_notification_change", args=[row.pk])).content.decode()
    assert "451 4.3.0" in change
    admin_client.post(
        reverse("admin:members_notification_changelist"),
        {"action": "retry", "_selected_action": [row.pk]},
    )
    smtp_sink.refuse = None
    assert send_due().sent == 1
    assert len(smtp_sink.to("duc@example.vn")) == 1


def test_server_down_keeps_every_row_for_later(schedule, settings, emails):
    from .conftest import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    schedule(start=soon())
    result = send_due()
    assert result.retried == 2 and result.sent == 0
    assert set(email_rows(kind="meetings.scheduled").values_list("state", flat=True)) == {"pending"}
    assert all(
        "Connection" in e or "refused" in e
        for e in email_rows().exclude(last_error="").values_list("last_error", flat=True)
    )


def test_a_worker_that_died_mid_batch_gives_its_rows_back_after_the_lease(schedule, smtp_sink):
    from members.notifications.delivery import LEASE, claim

    schedule(start=soon())
    now = timezone.now()
    _token, rows = claim(now)  # claimed, then the worker vanished
    assert len(rows) == 2
    assert send_due(now=now).sent == 0  # still leased
    assert send_due(now=now + LEASE + datetime.timedelta(seconds=1)).sent == 2


def test_no_address_cancels_the_email_row_and_keeps_the_inbox(schedule, smtp_sink, cast):
    schedule(start=soon())
    cast.member_user.email = ""
    cast.member_user.save(update_fields=["email"])
    result = send_due()
    assert result.sent == 1 and result.cancelled == 1
    assert (
        Notification.objects.get(recipient=cast.member_user, channel="inbox", kind="meetings.scheduled").state == "sent"
    )


def test_materials_go_by_email_to_members_who_work_away(schedule, smtp_sink, cast):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from meetings import uploads

    cast.member.works_away = True
    cast.member.save(update_fields=["works_away"])
    meeting = schedule(start=soon())
    pdf = SimpleUploadedFile("du-thao.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    uploads.material_add(meeting=meeting, upload=pdf, by=cast.secretary_user)
    rows = email_rows(kind="meetings.materials")
    assert list(rows.values_list("recipient", flat=True)) == [cast.member_user.pk]
    due = rows.get().due_at
    assert due == meeting.scheduled_start - datetime.timedelta(days=1)
    send_due(now=due)
    [raw] = [m for m in smtp_sink.to("duc@example.vn") if b"application/pdf" in m]
    message, _found = parts(raw)
    assert [p.get_filename() for p in message.iter_attachments()] == ["du-thao.pdf"]


def test_healthz_is_unhealthy_when_the_send_sweep_heartbeat_is_stale(client, db, settings):
    from cells.models import Heartbeat
    from cells.tasks import beat_heartbeat

    beat_heartbeat()
    tasks.beat(tasks.PLAN_HEARTBEAT)
    Heartbeat.objects.create(
        name=tasks.SEND_HEARTBEAT,
        at=timezone.now() - datetime.timedelta(seconds=2 * settings.CHIBO_NOTIFICATION_SEND_INTERVAL + 5),
    )
    response = client.get("/healthz?checks=heartbeat")
    assert response.status_code == 503
    assert "notifications-send" in response.json()["checks"]["heartbeat"]["detail"]
    tasks.send_due_notifications()  # the sweep runs again: healthy
    assert client.get("/healthz?checks=heartbeat").status_code == 200


def test_send_due_notifications_command_plans_and_sends_once(schedule, smtp_sink, cast):
    from io import StringIO

    from django.core.management import call_command

    schedule(start=soon())
    first, second = StringIO(), StringIO()
    call_command("send_due_notifications", stdout=first)
    call_command("send_due_notifications", stdout=second)
    sent = Notification.objects.filter(channel="email", state="sent").count()
    assert sent >= 2 and f"e-mail sent {sent}," in first.getvalue()
    assert "e-mail sent 0," in second.getvalue()
    assert len(smtp_sink.messages) == sent
    assert len(smtp_sink.to("duc@example.vn")) == 1  # the member: the invitation only


def test_beat_runs_both_sweeps_each_expiring_before_its_next_run(db, settings):
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import ModelEntry

    from config.celery import app

    for name, fields in settings.CELERY_BEAT_SCHEDULE.items():
        ModelEntry.from_entry(name, app=app, **fields)
    for task, interval in (
        ("members.tasks.send_due_notifications", settings.CHIBO_NOTIFICATION_SEND_INTERVAL),
        ("members.tasks.plan_notifications", settings.CHIBO_NOTIFICATION_PLAN_INTERVAL),
    ):
        entry = PeriodicTask.objects.get(task=task)
        assert entry.interval.every == interval and 0 < entry.expire_seconds < interval
