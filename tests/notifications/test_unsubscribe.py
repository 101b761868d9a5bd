"""Unsubscribe links: a signed token per person and kind in every e-mail (the footer of e-mail to a
member without a login; RFC 8058 List-Unsubscribe headers on all), a confirmation page and its
undo, and a one-click POST for mail providers. Planning honours the choice."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.test import Client

from members.notifications.delivery import send_due
from members.notifications.models import Notification, NotificationPreference
from members.notifications.services import TURNED_OFF
from members.notifications.unsubscribe import make_token, mask_address, read_token
from tests.factories import MemberFactory

from .conftest import parts, soon

SCHEDULED, REMINDER = "meetings.scheduled", "meetings.reminder"


@pytest.fixture
def offline(cast):
    """A member of cell A without a login, reached by e-mail at the member record's address."""
    return MemberFactory(full_name="Lê Thị Mai", cell=cast.cell_a, email="mai.le@example.vn")


def received(smtp_sink, address):
    return [parts(raw) for raw in smtp_sink.to(address)]


def one_click_path(message) -> str:
    """The List-Unsubscribe URL, checked to be the one https/http URL in angle brackets."""
    found = re.fullmatch(r"<(https?://[^>]+)>", str(message["List-Unsubscribe"]))
    assert found, message["List-Unsubscribe"]
    return urlsplit(found.group(1)).path


def page_path(text: str) -> str:
    found = re.search(r"https?://\S+?(/unsubscribe/\S+?/)(?:\s|$)", text)
    assert found, text
    return found.group(1)


def token_of(path: str) -> str:
    return path.split("/")[2]


# --- The token ----------------------------------------------------------------------------------


def test_a_member_token_names_the_member_and_the_kind(offline):
    found = read_token(make_token(kind=SCHEDULED, address=offline.email, member_uid=offline.uid))
    assert found.member == offline and found.user is None and found.kind.key == SCHEDULED
    assert found.masked_address == "ma***@example.vn"


def test_a_token_for_a_login_names_the_login_through_its_member_record(emails):
    found = read_token(make_token(kind=REMINDER, address="duc@example.vn", member_uid=emails.member.uid))
    assert found.user == emails.member_user and found.member is None


def test_a_login_without_a_member_record_is_named_by_its_id(cast):
    cast.staff_user.email = "canbo@example.vn"
    cast.staff_user.save(update_fields=["email"])
    found = read_token(make_token(kind=REMINDER, address="canbo@example.vn", user_id=cast.staff_user.pk))
    assert found.user == cast.staff_user


def test_the_token_does_not_show_the_address(offline):
    assert "mai" not in make_token(kind=SCHEDULED, address=offline.email, member_uid=offline.uid)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # the signature
        lambda token: token.replace("meetings.scheduled", "meetings.reminder"),  # another kind
        lambda token: "x" + token,
        lambda token: "garbage",
    ],
)
def test_a_tampered_token_gets_404(client, offline, tamper):
    token = make_token(kind=SCHEDULED, address=offline.email, member_uid=offline.uid)
    for name in ("unsubscribe", "unsubscribe/{}/done", "unsubscribe/{}/one-click"):
        path = f"/{name.format(tamper(token))}/" if "{}" in name else f"/{name}/{tamper(token)}/"
        assert client.get(path).status_code == 404
    assert client.post(f"/unsubscribe/{tamper(token)}/one-click/").status_code == 404
    assert client.post(f"/unsubscribe/{tamper(token)}/").status_code == 404
    assert not NotificationPreference.objects.exists()


def test_a_value_signed_for_something_else_gets_404(client, offline):
    value = f"m{offline.uid.hex}:{SCHEDULED}:0123456789ab"
    for foreign in (signing.Signer(salt="other").sign(value), signing.Signer().sign(value), signing.dumps(value)):
        assert client.get(f"/unsubscribe/{foreign}/").status_code == 404


def test_a_token_is_revoked_when_the_address_changes(client, offline):
    token = make_token(kind=SCHEDULED, address=offline.email, member_uid=offline.uid)
    assert client.get(f"/unsubscribe/{token}/").status_code == 200
    offline.email = "mai.moi@example.vn"
    offline.save(update_fields=["email"])
    assert client.get(f"/unsubscribe/{token}/").status_code == 404


def test_a_token_of_a_removed_member_gets_404(client, offline):
    token = make_token(kind=SCHEDULED, address=offline.email, member_uid=offline.uid)
    offline.delete()
    assert client.get(f"/unsubscribe/{token}/").status_code == 404


def test_mask_address_keeps_two_letters_and_the_domain():
    assert mask_address("nguyenvana@gmail.com") == "ng***@gmail.com"
    assert mask_address("a@b.vn") == "a***@b.vn"


# --- The e-mail ---------------------------------------------------------------------------------


def test_email_to_a_member_without_a_login_carries_the_link_and_both_headers(schedule, smtp_sink, offline):
    schedule(start=soon())
    send_due()
    [(message, found)] = received(smtp_sink, offline.email)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    one_click = one_click_path(message)
    assert message["List-Unsubscribe"].startswith("<http://127.0.0.1:8000/unsubscribe/")  # CHIBO_SITE_URL
    # The text and HTML footers link the confirmation page for the same token.
    page = page_path(found["text/plain"])
    assert one_click == f"{page}one-click/"
    assert "Để không nhận loại thư này nữa" in found["text/plain"]
    assert f'href="http://127.0.0.1:8000{page}"' in found["text/html"]
    assert "Ngừng nhận loại thư này" in found["text/html"]
    assert "unsubscribe-token-placeholder" not in smtp_sink.to(offline.email)[0].decode()
    subscriber = read_token(token_of(page))
    assert subscriber.member == offline and subscriber.kind.key == SCHEDULED


def test_a_body_long_enough_for_quoted_printable_still_gets_each_recipients_link(schedule, smtp_sink, offline):
    from members.notifications.models import NotificationMessage

    meeting = schedule(start=soon())
    # One line over 998 octets: the text part is quoted-printable encoded, which may split the
    # placeholder; the message is then built for the recipient with the token in it.
    NotificationMessage.objects.filter(object_id=meeting.pk, kind=SCHEDULED).update(body="Nội dung " * 200)
    send_due()
    [(message, found)] = received(smtp_sink, offline.email)
    assert "quoted-printable" in smtp_sink.to(offline.email)[0].decode()
    assert read_token(token_of(page_path(found["text/plain"]))).member == offline
    assert read_token(token_of(one_click_path(message))).member == offline


def test_each_recipient_gets_a_token_of_their_own(schedule, smtp_sink, offline, cast, monkeypatch):
    from members.notifications import delivery

    other = MemberFactory(full_name="Võ Văn Nam", cell=cast.cell_a, email="nam@example.vn")
    schedule(start=soon())
    original, built = delivery.build_template, []

    def counting(row, **token):
        built.append((row.has_login, bool(token)))
        return original(row, **token)

    monkeypatch.setattr(delivery, "build_template", counting)
    send_due()
    # The message is still built once per kind of recipient, the tokens put in when personalised.
    assert sorted(built) == [(False, False), (True, False)]
    mine, theirs = received(smtp_sink, offline.email)[0][0], received(smtp_sink, other.email)[0][0]
    assert read_token(token_of(one_click_path(mine))).member == offline
    assert read_token(token_of(one_click_path(theirs))).member == other


def test_email_to_a_login_carries_the_header_and_keeps_its_settings_footer(schedule, smtp_sink, emails):
    schedule(start=soon())
    send_due()
    [(message, found)] = received(smtp_sink, "duc@example.vn")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert read_token(token_of(one_click_path(message))).user == emails.member_user
    assert "Cài đặt thông báo" in found["text/html"] and "/unsubscribe/" not in found["text/plain"]


def test_the_file_and_memory_backends_get_the_same_headers(schedule, offline, mailoutbox):
    schedule(start=soon())
    send_due()
    [sent] = [m for m in mailoutbox if m.to == [offline.email]]
    message, _found = parts(sent.message().as_bytes())
    assert read_token(token_of(one_click_path(message))).member == offline


# --- The pages ----------------------------------------------------------------------------------


def test_the_page_asks_in_vietnamese_and_the_post_turns_the_kind_off(client, offline):
    token = make_token(kind=REMINDER, address=offline.email, member_uid=offline.uid)
    page = client.get(f"/unsubscribe/{token}/")
    text = page.content.decode()
    assert page.status_code == 200 and page["Referrer-Policy"] == "same-origin"
    assert "Ngừng nhận loại thư này?" in text and "Nhắc lịch họp" in text and "ma***@example.vn" in text
    assert "mai.le@example.vn" not in text and "Lê Thị Mai" not in text
    assert not NotificationPreference.objects.exists()  # opening the link changes nothing

    done = client.post(f"/unsubscribe/{token}/", follow=True)
    assert done.redirect_chain[-1][0] == f"/unsubscribe/{token}/done/"
    assert "Đồng chí sẽ không nhận các thư này nữa" in done.content.decode()
    assert NotificationPreference.objects.get(member=offline, kind=REMINDER).email is False
    assert client.get(f"/unsubscribe/{token}/").url == f"/unsubscribe/{token}/done/"


def test_undo_turns_the_kind_on_again(client, offline):
    token = make_token(kind=REMINDER, address=offline.email, member_uid=offline.uid)
    client.post(f"/unsubscribe/{token}/")
    back = client.post(f"/unsubscribe/{token}/undo/", follow=True)
    assert back.redirect_chain[-1][0] == f"/unsubscribe/{token}/"
    assert "sẽ lại được gửi tới ma***@example.vn" in back.content.decode()
    assert NotificationPreference.objects.get(member=offline, kind=REMINDER).email is True
    assert client.get(f"/unsubscribe/{token}/undo/").status_code == 405


def test_the_confirmation_form_needs_its_csrf_token(offline):
    client = Client(enforce_csrf_checks=True)
    token = make_token(kind=REMINDER, address=offline.email, member_uid=offline.uid)
    assert client.post(f"/unsubscribe/{token}/").status_code == 403
    assert client.post(f"/unsubscribe/{token}/undo/").status_code == 403
    assert not NotificationPreference.objects.exists()


def test_one_click_post_works_without_a_csrf_token(offline):
    client = Client(enforce_csrf_checks=True)
    token = make_token(kind=REMINDER, address=offline.email, member_uid=offline.uid)
    response = client.post(
        f"/unsubscribe/{token}/one-click/",
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200  # RFC 8058: no redirect
    assert NotificationPreference.objects.get(member=offline, kind=REMINDER).email is False
    # Opening the header's URL in a browser shows the page instead of acting.
    assert client.get(f"/unsubscribe/{token}/one-click/").url == f"/unsubscribe/{token}/"


def test_one_click_from_a_login_email_turns_off_the_logins_setting(client, schedule, smtp_sink, emails):
    schedule(start=soon())
    send_due()
    message = received(smtp_sink, "duc@example.vn")[0][0]
    assert Client(enforce_csrf_checks=True).post(one_click_path(message)).status_code == 200
    assert NotificationPreference.objects.get(user=emails.member_user, kind=SCHEDULED).email is False
    # The settings page shows the same choice.
    client.force_login(emails.member_user)
    settings_page = client.get("/inbox/settings/").content.decode()
    assert re.search(r'value="meetings\.scheduled"\s*>', settings_page)


# --- Planning honours the choice ----------------------------------------------------------------


def test_a_member_who_turned_reminders_off_gets_them_planned_as_cancelled(client, schedule, smtp_sink, offline):
    client.post(f"/unsubscribe/{make_token(kind=REMINDER, address=offline.email, member_uid=offline.uid)}/")
    meeting = schedule(start=soon())
    reminders = Notification.objects.filter(member=offline, kind=REMINDER)
    assert reminders.count() == 2
    assert set(reminders.values_list("state", "last_error")) == {("cancelled", TURNED_OFF)}
    # The invitation is another kind: still sent.
    assert Notification.objects.get(member=offline, kind=SCHEDULED).state == "pending"
    send_due(now=meeting.scheduled_start)  # everything due by the meeting's start
    subjects = [str(m["Subject"]).strip() for m, _found in received(smtp_sink, offline.email)]
    assert len(subjects) == 1 and subjects[0].startswith("Thông báo lịch họp")


def test_turning_off_cancels_the_rows_already_waiting(client, schedule, offline):
    schedule(start=soon())
    assert Notification.objects.filter(member=offline, kind=REMINDER, state="pending").count() == 2
    client.post(f"/unsubscribe/{make_token(kind=REMINDER, address=offline.email, member_uid=offline.uid)}/")
    assert set(Notification.objects.filter(member=offline, kind=REMINDER).values_list("state", flat=True)) == {
        "cancelled"
    }


def test_after_undo_the_next_meeting_is_planned_again(client, schedule, offline):
    token = make_token(kind=REMINDER, address=offline.email, member_uid=offline.uid)
    client.post(f"/unsubscribe/{token}/")
    client.post(f"/unsubscribe/{token}/undo/")
    schedule(start=soon(12))
    states = Notification.objects.filter(member=offline, kind=REMINDER).values_list("state", flat=True)
    assert list(states) == ["pending", "pending"]


def test_a_moved_meeting_plans_the_turned_off_reminders_as_cancelled_again(client, schedule, offline, emails):
    from meetings import services

    client.post(f"/unsubscribe/{make_token(kind=REMINDER, address=offline.email, member_uid=offline.uid)}/")
    meeting = schedule(start=soon())
    services.meeting_update(meeting=meeting, scheduled_start=soon(11), by=emails.secretary_user, reason="Trùng lịch")
    rows = Notification.objects.filter(member=offline, kind=REMINDER)
    assert rows.count() == 4 and not rows.filter(state="pending").exists()


def test_the_choice_is_one_row_per_person_and_kind(offline, emails):
    from django.db import IntegrityError, transaction

    NotificationPreference.objects.create(member=offline, kind=REMINDER, email=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        NotificationPreference.objects.create(member=offline, kind=REMINDER, email=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        NotificationPreference.objects.create(kind=REMINDER, email=False)  # nobody
    with pytest.raises(IntegrityError), transaction.atomic():
        NotificationPreference.objects.create(user=emails.member_user, member=offline, kind=SCHEDULED, email=False)


def test_the_administrator_sees_who_turned_which_email_off(
    admin_client, client, offline, django_assert_max_num_queries
):
    for kind in (REMINDER, SCHEDULED):
        client.post(f"/unsubscribe/{make_token(kind=kind, address=offline.email, member_uid=offline.uid)}/")
    with django_assert_max_num_queries(12):
        page = admin_client.get("/admin/members/notificationpreference/")
    assert page.status_code == 200 and page.content.decode().count("Lê Thị Mai") == 2


def test_choices_made_by_link_follow_the_member_to_a_new_login(offline, cast):
    from members import accounts
    from members.notifications.services import notification_email_set

    notification_email_set(kind=REMINDER, email=False, member=offline)
    notification_email_set(kind=SCHEDULED, email=False, member=offline)
    activation, _code = accounts.activation_issue(member=offline, channel="slip", by=cast.secretary_user)
    user = accounts.activation_complete(activation=activation, password="mat-khau-moi-2026")
    chosen = set(NotificationPreference.objects.filter(user=user).values_list("kind", "email"))
    assert chosen == {(REMINDER, False), (SCHEDULED, False)}
    assert not NotificationPreference.objects.filter(member=offline).exists()


def test_the_login_s_own_choice_stands_over_the_link_s(offline):
    from members.notifications.services import notification_email_set, preferences_follow_login
    from tests.factories import UserFactory

    user = UserFactory(username="mai")
    notification_email_set(kind=REMINDER, email=True, user=user)
    notification_email_set(kind=REMINDER, email=False, member=offline)
    preferences_follow_login(member=offline, user=user)
    assert list(NotificationPreference.objects.filter(user=user).values_list("kind", "email")) == [(REMINDER, True)]
    assert not NotificationPreference.objects.filter(member=offline).exists()
