"""The meeting page puts each reader's next step one tap away."""

from django.urls import reverse

from meetings import services
from meetings.models import Meeting


def _detail(client, meeting) -> str:
    return client.get(reverse("meetings:detail", args=[meeting.uid])).content.decode()


def test_a_running_meeting_offers_the_secretary_its_dues_page(cast, client_for, schedule):
    meeting = schedule()
    services.meeting_open(meeting=meeting, by=cast.secretary_user)
    html = _detail(client_for(cast.secretary_user), meeting)
    assert f'href="{reverse("meetings:dues", args=[meeting.uid])}"' in html


def test_the_ward_reads_the_minutes_while_they_are_written_and_a_member_only_once_closed(cast, client, schedule):
    meeting = schedule()
    services.meeting_open(meeting=meeting, by=cast.secretary_user)
    minutes_link = f'href="{reverse("meetings:minutes", args=[meeting.uid])}"'
    client.force_login(cast.ward_user)
    assert minutes_link in _detail(client, meeting)
    client.force_login(cast.member_user)
    assert minutes_link not in _detail(client, meeting)


def test_a_closed_meeting_offers_a_member_the_pdf_as_a_download_and_the_minutes(cast, client_for, schedule):
    meeting = schedule()
    services.meeting_open(meeting=meeting, by=cast.secretary_user)
    # Closed the way the service leaves it; the PDF itself is tested with the minutes.
    Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.CLOSED)
    html = _detail(client_for(cast.member_user), meeting)
    assert f'href="{reverse("meetings:minutes_pdf", args=[meeting.uid])}" download' in html
    assert f'href="{reverse("meetings:minutes", args=[meeting.uid])}"' in html


def test_a_cancelled_meeting_has_no_minutes_to_read(cast, client_for, schedule):
    meeting = schedule()
    services.meeting_cancel(meeting=meeting, reason="Trùng lịch", by=cast.secretary_user)
    html = _detail(client_for(cast.member_user), meeting)
    assert reverse("meetings:minutes", args=[meeting.uid]) not in html
