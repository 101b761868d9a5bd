"""Cancelling or moving a meeting keeps the reason on its history row, whoever calls the service."""

from meetings import services
from meetings.models import Meeting
from tests.meetings.conftest import at


def test_cancel_stores_the_reason_on_the_history_row(cast, schedule):
    meeting = schedule()
    services.meeting_cancel(meeting=meeting, reason="  Bão số 3, mưa lớn ", by=cast.secretary_user)
    latest = meeting.history.order_by("-history_id").first()
    assert (latest.status, latest.history_change_reason) == (Meeting.Status.CANCELLED, "Bão số 3, mưa lớn")


def test_reschedule_stores_the_reason_cut_to_what_the_history_column_holds(cast, schedule):
    meeting = schedule()
    reason = "Trùng lịch họp của Đảng ủy phường " * 5
    services.meeting_update(meeting=meeting, scheduled_start=at(2026, 3, 14, 8), reason=reason, by=cast.secretary_user)
    latest = meeting.history.order_by("-history_id").first()
    assert latest.revision == 1
    assert latest.history_change_reason == reason.strip()[:100]


def test_a_change_without_a_reason_leaves_none_and_the_next_change_does_not_inherit_one(cast, schedule):
    meeting = schedule()
    meeting = services.meeting_update(
        meeting=meeting, place="Hội trường", reason="Đổi địa điểm", by=cast.secretary_user
    )
    services.meeting_update(meeting=meeting, planned_minutes=150, by=cast.secretary_user)
    reasons = list(meeting.history.order_by("history_id").values_list("history_change_reason", flat=True))
    assert reasons == [None, "Đổi địa điểm", None]
