"""The inbox, its badge and the notification settings: each person sees only their own rows."""

import time_machine
from django.urls import reverse

from members.notifications.delivery import send_due
from members.notifications.models import Notification, NotificationPreference
from tests.factories import UserFactory

from .conftest import at

NOW = at(2026, 12, 1, 9)


def inbox_rows(user):
    return Notification.objects.filter(recipient=user, channel="inbox", state="sent")


@time_machine.travel(NOW, tick=False)
def test_member_sees_unread_badge_and_the_meeting_in_the_inbox(schedule, cast, client_for):
    meeting = schedule()
    send_due()
    client = client_for(cast.member_user)
    html = client.get(reverse("members:home")).content.decode()
    assert 'data-testid="unread-badge">1<' in html
    response = client.get(reverse("members:inbox"))
    assert response.status_code == 200
    assert "Thông báo lịch họp" in response.content.decode()
    row = inbox_rows(cast.member_user).get()
    response = client.get(reverse("members:inbox_open", args=[row.uid]))
    assert response.status_code == 302 and response["Location"] == reverse("meetings:detail", args=[meeting.uid])
    row.refresh_from_db()
    assert row.read_at is not None
    assert 'data-testid="unread-badge"' not in client.get(reverse("members:inbox")).content.decode()


@time_machine.travel(NOW, tick=False)
def test_pending_rows_are_not_in_the_inbox_until_due(schedule, cast, client_for):
    schedule()  # reminders are due later; the invitation is due now but not yet swept
    html = client_for(cast.member_user).get(reverse("members:inbox")).content.decode()
    assert 'data-testid="inbox-empty"' in html


@time_machine.travel(NOW, tick=False)
def test_another_persons_notification_gives_404(schedule, cast, client_for):
    schedule()
    send_due()
    row = inbox_rows(cast.secretary_user).first()
    client = client_for(cast.member_user)
    assert client.get(reverse("members:inbox_open", args=[row.uid])).status_code == 404
    assert client.post(reverse("members:inbox_read", args=[row.uid])).status_code == 404
    row.refresh_from_db()
    assert row.read_at is None


@time_machine.travel(NOW, tick=False)
def test_mark_one_and_all_read(schedule, cast, client_for):
    schedule()
    schedule(start=at(2026, 12, 20, 8), kind="thematic", topic="Học tập Nghị quyết")
    send_due()
    client = client_for(cast.member_user)
    first = inbox_rows(cast.member_user).first()
    client.post(reverse("members:inbox_read", args=[first.uid]), {"next": "https://evil.example/"})
    assert inbox_rows(cast.member_user).filter(read_at__isnull=True).count() == 1
    response = client.post(reverse("members:inbox_read_all"))
    assert response.status_code == 302
    assert not inbox_rows(cast.member_user).filter(read_at__isnull=True).exists()


def test_inbox_pages_in_constant_queries(cast, client_for, django_assert_max_num_queries):
    from django.contrib.contenttypes.models import ContentType

    from members.notifications.models import NotificationMessage

    ct = ContentType.objects.get_for_model(cast.cell_a)
    messages = NotificationMessage.objects.bulk_create(
        NotificationMessage(
            kind="meetings.month_without_meeting",
            content_type=ct,
            object_id=cast.cell_a.pk,
            occurrence=f"2026-{i}",
            subject=f"Thông báo {i}",
            body="Nội dung",
            url="/",
        )
        for i in range(45)
    )
    Notification.objects.bulk_create(
        Notification(
            recipient=cast.member_user,
            kind=m.kind,
            content_type=ct,
            object_id=cast.cell_a.pk,
            channel="inbox",
            occurrence=m.occurrence,
            due_at=NOW,
            state="sent",
            sent_at=NOW,
            message=m,
        )
        for m in messages
    )
    client = client_for(cast.member_user)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("members:inbox"))
    assert response.content.decode().count('data-testid="notification"') == 20
    assert 'data-testid="unread-badge">45<' in response.content.decode()
    with django_assert_max_num_queries(8):
        assert client.get(reverse("members:inbox") + "?page=3").status_code == 200


@time_machine.travel(NOW, tick=False)
def test_turning_email_off_for_a_kind_cancels_waiting_emails_and_keeps_the_inbox(schedule, cast, client_for):
    meeting = schedule()
    client = client_for(cast.member_user)
    assert client.get(reverse("members:notification_preferences")).status_code == 200
    # Every kind on except reminders.
    from members.notifications.registry import KINDS

    chosen = [k for k in KINDS if k != "meetings.reminder"]
    client.post(reverse("members:notification_preferences"), {"email": chosen})
    assert NotificationPreference.objects.get(user=cast.member_user, kind="meetings.reminder").email is False
    reminders = Notification.objects.filter(recipient=cast.member_user, object_id=meeting.pk, kind="meetings.reminder")
    assert set(reminders.filter(channel="email").values_list("state", flat=True)) == {"cancelled"}
    assert set(reminders.filter(channel="inbox").values_list("state", flat=True)) == {"pending"}
    # A meeting planned after the choice gets no reminder e-mail for this member at all.
    later = schedule(start=at(2026, 12, 20, 8), kind="thematic", topic="Chuyển đổi số")
    assert not Notification.objects.filter(
        recipient=cast.member_user, object_id=later.pk, kind="meetings.reminder", channel="email"
    ).exists()


def test_inbox_needs_sign_in(client, db):
    assert "/login/" in client.get(reverse("members:inbox"))["Location"]


def test_user_without_member_record_has_an_empty_inbox(client_for, db):
    response = client_for(UserFactory(username="admin2")).get(reverse("members:inbox"))
    assert response.status_code == 200
