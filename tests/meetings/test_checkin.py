"""QR check-in: signed tokens that rotate every minute, and the check-in page's refusals."""

import re
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.core import signing
from django.urls import reverse

from meetings import checkin, services
from meetings.models import Attendance, Meeting
from tests.factories import MemberFactory
from tests.meetings.conftest import at

T0 = 1_900_000_020.0  # the start of a time slot (a multiple of 60 s)


# --- Tokens -------------------------------------------------------------------------------------------


def test_token_of_the_current_slot_is_accepted():
    uid = uuid.uuid4()
    with time_machine.travel(T0 + 5, tick=False):
        token = checkin.make_token(uid)
        checkin.verify_token(token, uid)


def test_token_of_the_previous_slot_is_accepted_so_a_scan_at_the_change_works():
    uid = uuid.uuid4()
    with time_machine.travel(T0 + 59, tick=False):
        token = checkin.make_token(uid)
    with time_machine.travel(T0 + 61, tick=False):
        checkin.verify_token(token, uid)


def test_token_two_slots_old_is_expired():
    uid = uuid.uuid4()
    with time_machine.travel(T0 + 1, tick=False):
        token = checkin.make_token(uid)
    with time_machine.travel(T0 + 121, tick=False):
        with pytest.raises(checkin.TokenRefused) as refused:
            checkin.verify_token(token, uid)
    assert refused.value.code == "expired"


def test_token_older_than_the_max_age_is_expired_whatever_its_slot():
    uid = uuid.uuid4()
    with time_machine.travel(T0, tick=False):
        # A slot that claims to be current, signed long ago.
        token = signing.dumps([str(uid), checkin.current_slot(T0 + 600)], salt=checkin.SALT)
    with time_machine.travel(T0 + 600, tick=False):
        with pytest.raises(checkin.TokenRefused) as refused:
            checkin.verify_token(token, uid)
    assert refused.value.code == "expired"


def test_token_of_another_meeting_is_refused():
    token = checkin.make_token(uuid.uuid4())
    with pytest.raises(checkin.TokenRefused) as refused:
        checkin.verify_token(token, uuid.uuid4())
    assert refused.value.code == "other_meeting"


@pytest.mark.parametrize(
    "make",
    [
        lambda: "",
        lambda: "not-a-token",
        lambda: signing.dumps(["x", 1], salt="another.salt"),
        lambda: signing.dumps("just a string", salt=checkin.SALT),
    ],
    ids=["empty", "garbage", "other-salt", "wrong-shape"],
)
def test_forged_tokens_are_refused(make):
    # Signed when the test runs, not at collection: a long suite would otherwise let them expire.
    with pytest.raises(checkin.TokenRefused) as refused:
        checkin.verify_token(make(), uuid.uuid4())
    assert refused.value.code == "forged"


def test_a_tampered_token_is_refused_as_forged():
    uid = uuid.uuid4()
    token = checkin.make_token(uid)
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    with pytest.raises(checkin.TokenRefused) as refused:
        checkin.verify_token(tampered, uid)
    assert refused.value.code == "forged"


# --- The check-in page ------------------------------------------------------------------------------


@pytest.fixture
def meeting(cast, schedule):
    m = schedule(start=at(2026, 3, 12))
    return services.meeting_open(meeting=m, by=cast.secretary_user)


def check_in_url(meeting, token):
    return reverse("meetings:check_in", args=[meeting.uid]) + f"?t={token}"


def test_member_confirms_and_is_marked_present_with_the_time(cast, meeting, client_for):
    client = client_for(cast.member_user)
    url = check_in_url(meeting, checkin.make_token(meeting.uid))
    response = client.get(url)
    assert response.status_code == 200 and 'data-testid="check-in-confirm"' in response.content.decode()
    assert Attendance.objects.get(meeting=meeting, member=cast.member).status == ""  # a GET changes nothing

    response = client.post(url, {"t": response.context["token"]})
    assert response.status_code == 200 and 'data-testid="check-in-done"' in response.content.decode()
    row = Attendance.objects.get(meeting=meeting, member=cast.member)
    assert row.status == "present" and row.checked_in_at is not None


def test_scan_just_before_the_code_changes_still_works(cast, meeting, client_for):
    with time_machine.travel(time.time() // 60 * 60 + 58, tick=False) as traveller:
        token = checkin.make_token(meeting.uid)
        traveller.shift(5)  # the next slot has begun when the member taps the button
        response = client_for(cast.member_user).post(check_in_url(meeting, token), {"t": token})
    assert response.status_code == 200
    assert Attendance.objects.get(meeting=meeting, member=cast.member).status == "present"


def _refused(response, meeting, member, status):
    assert response.status_code == status
    assert 'data-testid="check-in-refused"' in response.content.decode()
    row = Attendance.objects.filter(meeting=meeting, member=member).first()
    assert row is None or (row.status == "" and row.checked_in_at is None)


def test_expired_token_is_refused_and_changes_nothing(cast, meeting, client_for):
    token = checkin.make_token(meeting.uid, now=time.time() - 180)
    response = client_for(cast.member_user).post(check_in_url(meeting, token), {"t": token})
    _refused(response, meeting, cast.member, 400)


def test_token_of_another_meeting_is_refused_and_changes_nothing(cast, meeting, schedule, client_for):
    other = schedule(start=at(2026, 4, 9))
    token = checkin.make_token(other.uid)
    response = client_for(cast.member_user).post(check_in_url(meeting, token), {"t": token})
    _refused(response, meeting, cast.member, 400)
    assert "another meeting" in response.context["refusal"] or "cuộc họp khác" in response.context["refusal"]


def test_forged_token_is_refused_and_changes_nothing(cast, meeting, client_for):
    token = signing.dumps([str(meeting.uid), checkin.current_slot()], key="not-the-secret", salt=checkin.SALT)
    response = client_for(cast.member_user).post(check_in_url(meeting, token), {"t": token})
    _refused(response, meeting, cast.member, 400)


def test_user_not_on_the_roll_is_refused(cast, meeting, client_for):
    # The ward committee member may see the meeting but is on cell B's roll.
    token = checkin.make_token(meeting.uid)
    response = client_for(cast.ward_user).post(check_in_url(meeting, token), {"t": token})
    _refused(response, meeting, cast.ward_member, 403)
    newcomer = MemberFactory(cell=cast.cell_a)  # joined after the roll was taken
    from tests.conftest import make_login

    response = client_for(make_login(newcomer, "newcomer")).post(check_in_url(meeting, token), {"t": token})
    _refused(response, meeting, newcomer, 403)


def test_meeting_not_in_progress_is_refused(cast, schedule, meeting, client_for):
    scheduled = schedule(start=at(2026, 4, 9))
    token = checkin.make_token(scheduled.uid)
    _refused(
        client_for(cast.member_user).post(check_in_url(scheduled, token), {"t": token}), scheduled, cast.member, 409
    )

    services.meeting_finish(meeting=meeting, by=cast.secretary_user, actual_end=at(2026, 3, 12, 10))
    token = checkin.make_token(meeting.uid)
    _refused(client_for(cast.member_user).post(check_in_url(meeting, token), {"t": token}), meeting, cast.member, 409)


def test_check_in_keeps_a_status_already_recorded_present(cast, meeting, client_for):
    services.attendance_record(meeting=meeting, member=cast.member, status="online", by=cast.secretary_user)
    token = checkin.make_token(meeting.uid)
    client_for(cast.member_user).post(check_in_url(meeting, token), {"t": token})
    assert Attendance.objects.get(meeting=meeting, member=cast.member).status == "online"


def test_anonymous_user_signs_in_and_comes_back_to_the_check_in(cast, meeting, client):
    url = check_in_url(meeting, checkin.make_token(meeting.uid))
    response = client.get(url)
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == reverse("members:login")
    assert parse_qs(location.query)["next"] == [url]


def test_outsider_gets_404_on_the_check_in(cast, meeting, client_for):
    token = checkin.make_token(meeting.uid)
    assert client_for(cast.outsider_user).post(check_in_url(meeting, token), {"t": token}).status_code == 404


# --- The QR page ----------------------------------------------------------------------------------


def test_qr_page_shows_a_code_for_a_valid_check_in_url_of_this_meeting(cast, meeting, client_for):
    client = client_for(cast.secretary_user)
    html = client.get(reverse("meetings:qr", args=[meeting.uid])).content.decode()
    assert "<svg" in html and 'class="segno"' in html
    url = re.search(r'data-check-in-url="([^"]+)"', html).group(1)
    parts = urlsplit(url.replace("&amp;", "&"))
    assert parts.scheme == "http" and parts.netloc == "testserver"
    assert parts.path == reverse("meetings:check_in", args=[meeting.uid])
    checkin.verify_token(parse_qs(parts.query)["t"][0], meeting.uid)

    fragment = client.get(reverse("meetings:qr_code", args=[meeting.uid])).content.decode()
    assert fragment.lstrip().startswith('<div id="qr-code"') and 'hx-trigger="every 20s"' in fragment
    assert "<html" not in fragment


def test_qr_page_is_for_the_committee_only(cast, meeting, client_for):
    assert client_for(cast.ward_user).get(reverse("meetings:qr", args=[meeting.uid])).status_code == 403
    assert client_for(cast.member_user).get(reverse("meetings:qr_code", args=[meeting.uid])).status_code == 403


def test_qr_page_of_a_meeting_not_started_offers_to_open_it(cast, schedule, client_for):
    m = schedule(start=at(2026, 4, 9))
    client = client_for(cast.secretary_user)
    html = client.get(reverse("meetings:qr", args=[m.uid])).content.decode()
    assert "data-check-in-url" not in html and 'data-testid="open-meeting"' in html
    response = client.post(reverse("meetings:attendance", args=[m.uid]), {"action": "open", "next": "qr"})
    assert response["Location"] == reverse("meetings:qr", args=[m.uid])
    m.refresh_from_db()
    assert m.status == Meeting.Status.IN_PROGRESS
    assert "data-check-in-url" in client.get(reverse("meetings:qr", args=[m.uid])).content.decode()
