import datetime
import re
from smtplib import SMTPException
from unittest import mock

import pytest
from django.contrib.auth import authenticate
from django.core import mail
from django.urls import reverse

from members import accounts, services
from members.models import AccountActivation, User
from tests.conftest import PASSWORD
from tests.factories import MemberFactory


@pytest.fixture(autouse=True)
def _english(client, settings):
    """These tests read the English messages; Vietnamese is checked in tests/test_i18n.py."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


NEW_PASSWORD = "Hoa-sen-no-2026"
WRONG_CODE_MESSAGE = "do not match a valid activation code"


def _fresh(user):
    return User.objects.get(pk=user.pk)


def _signed_in_user_id(client):
    return client.session.get("_auth_user_id")


def _issue_slip(client_for, cast, member=None):
    member = member or cast.member
    response = client_for(cast.secretary_user).post(reverse("members:account_slip", args=[member.uid]))
    assert response.status_code == 200
    return response, response.context["code"]


def _activate(client, identifier, code, password=NEW_PASSWORD, again=None):
    client.cookies["django_language"] = "en"  # logout() drops the cookies
    return client.post(
        reverse("members:activate"),
        {"identifier": identifier, "code": code, "new_password1": password, "new_password2": again or password},
    )


# --- Sign-in backend ---------------------------------------------------------------------------


def test_member_signs_in_with_card_number(cast):
    assert authenticate(username=cast.member.card_number, password=PASSWORD) == cast.member_user


def test_card_number_is_case_and_space_insensitive(cast):
    cast.member.card_number = "ab-123456"
    cast.member.save()
    assert authenticate(username="  Ab-123456 ", password=PASSWORD) == cast.member_user


def test_member_signs_in_with_phone_in_any_usual_form(cast):
    cast.member.phone = "0912 345 678"
    cast.member.save()
    assert authenticate(username="0912345678", password=PASSWORD) == cast.member_user
    assert authenticate(username="0912.345.678", password=PASSWORD) == cast.member_user
    assert authenticate(username="+84 912 345 678", password=PASSWORD) == cast.member_user


def test_member_signs_in_with_email(cast):
    cast.member.email = "duc@example.vn"
    cast.member.save()
    assert authenticate(username="Duc@Example.VN", password=PASSWORD) == cast.member_user


def test_staff_without_member_record_signs_in_with_username(cast):
    assert authenticate(username="staff", password=PASSWORD) == cast.staff_user
    assert authenticate(username="STAFF", password=PASSWORD) == cast.staff_user


def test_wrong_password_is_refused(cast):
    assert authenticate(username=cast.member.card_number, password="not-the-password") is None
    assert authenticate(username="nobody-at-all", password=PASSWORD) is None
    assert authenticate(username="", password=PASSWORD) is None


def test_phone_shared_by_two_members_signs_nobody_in(cast):
    cast.member.phone = "0912345678"
    cast.member.save()
    cast.secretary.phone = "0912345678"
    cast.secretary.save()
    assert authenticate(username="0912345678", password=PASSWORD) is None


def test_inactive_user_cannot_sign_in(cast):
    User.objects.filter(pk=cast.member_user.pk).update(is_active=False)
    assert authenticate(username=cast.member.card_number, password=PASSWORD) is None
    assert authenticate(username="member", password=PASSWORD) is None


def test_member_who_left_the_party_cannot_sign_in(cast):
    services.member_end(member=cast.member, on=datetime.date.today(), reason="left", by=cast.secretary_user)
    assert not _fresh(cast.member_user).is_active
    assert authenticate(username=cast.member.card_number, password=PASSWORD) is None
    # Even if someone switches the login back on by hand, a departed member stays out.
    User.objects.filter(pk=cast.member_user.pk).update(is_active=True)
    assert authenticate(username="member", password=PASSWORD) is None


def test_sign_in_page_signs_in_with_card_number(client, cast):
    response = client.get(reverse("members:login"))
    assert response.status_code == 200
    assert reverse("members:password_reset") in response.content.decode()
    assert reverse("members:activate") in response.content.decode()
    response = client.post(reverse("members:login"), {"username": cast.member.card_number, "password": PASSWORD})
    assert response.status_code == 302
    assert _signed_in_user_id(client) == str(cast.member_user.pk)


def test_sign_in_page_shows_an_error_for_a_wrong_password(client, cast):
    response = client.post(reverse("members:login"), {"username": cast.member.card_number, "password": "x"})
    assert response.status_code == 200
    assert "password is wrong" in response.content.decode()
    assert _signed_in_user_id(client) is None


def test_sign_out_is_post_only(client_for, cast):
    client = client_for(cast.member_user)
    assert client.get(reverse("members:logout")).status_code == 405
    response = client.post(reverse("members:logout"))
    assert response.status_code == 302 and response.url == reverse("members:login")
    assert _signed_in_user_id(client) is None


# --- Scope of the committee actions --------------------------------------------------------------

ACTIONS = ["members:account_slip", "members:account_invite", "members:account_disable"]


@pytest.mark.parametrize("name", ACTIONS)
def test_member_of_other_cell_gets_404(client_for, cast, name):
    response = client_for(cast.outsider_user).post(reverse(name, args=[cast.member.uid]))
    assert response.status_code == 404


@pytest.mark.parametrize("name", ACTIONS)
def test_read_only_ward_committee_gets_403(client_for, cast, name):
    response = client_for(cast.ward_user).post(reverse(name, args=[cast.member.uid]))
    assert response.status_code == 403


@pytest.mark.parametrize("name", ACTIONS)
def test_member_gets_403_on_his_own_record(client_for, cast, name):
    response = client_for(cast.member_user).post(reverse(name, args=[cast.member.uid]))
    assert response.status_code == 403


@pytest.mark.parametrize("name", ACTIONS)
def test_committee_actions_are_post_only(client_for, cast, name):
    response = client_for(cast.secretary_user).get(reverse(name, args=[cast.member.uid]))
    assert response.status_code == 405


@pytest.mark.parametrize("name", ACTIONS)
def test_anonymous_is_sent_to_sign_in(client, cast, name):
    response = client.post(reverse(name, args=[cast.member.uid]))
    assert response.status_code == 302 and response.url.startswith(reverse("members:login"))


# --- Slip and activation -------------------------------------------------------------------------


def test_secretary_prints_a_slip_with_code_and_qr(client_for, cast):
    response, code = _issue_slip(client_for, cast)
    html = response.content.decode()
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    assert code in html
    assert "<svg" in html and 'class="segno"' in html
    assert cast.member.card_number in html and cast.member.full_name in html and cast.cell_a.name in html
    assert "http://testserver" + reverse("members:activate") in html
    assert "window.print()" in html
    assert response["Cache-Control"].startswith("max-age=0")
    activation = AccountActivation.objects.get(member=cast.member)
    assert activation.channel == AccountActivation.Channel.SLIP and activation.created_by == cast.secretary_user
    assert code not in activation.code_hash


def test_slip_qr_encodes_the_prefilled_activation_link(cast):
    link = accounts.activation_link(base_url="https://chibo.vn/activate/", member=cast.member, code="ABCD-2345")
    assert link == f"https://chibo.vn/activate/?id={cast.member.card_number}&code=ABCD-2345"


def test_new_slip_cancels_the_previous_code(client, client_for, cast):
    _, first = _issue_slip(client_for, cast)
    _, second = _issue_slip(client_for, cast)
    client.logout()
    response = _activate(client, cast.member.card_number, first)
    assert WRONG_CODE_MESSAGE in response.content.decode()
    assert _activate(client, cast.member.card_number, second).status_code == 302


def test_no_slip_for_a_member_who_left(client_for, cast):
    services.member_end(member=cast.member, on=datetime.date.today(), reason="died", by=cast.secretary_user)
    response = client_for(cast.secretary_user).post(reverse("members:account_slip", args=[cast.member.uid]))
    assert response.status_code == 302 and response.url == reverse("members:detail", args=[cast.member.uid])
    assert not AccountActivation.objects.exists()


def test_activation_page_is_prefilled_from_the_qr_link(client, cast):
    response = client.get(reverse("members:activate"), {"id": "79000001", "code": "ABCD-2345"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="79000001"' in html and 'value="ABCD-2345"' in html


def test_member_activates_with_the_slip_then_signs_in_with_card_number(client, client_for, cast):
    newcomer = MemberFactory(full_name="Vũ Thị Lan", gender="female", cell=cast.cell_a, card_number="79112233")
    _, code = _issue_slip(client_for, cast, newcomer)
    client.logout()
    response = _activate(client, "79112233", code.lower().replace("-", " "))
    assert response.status_code == 302 and response.url == reverse("members:home")
    newcomer.refresh_from_db()
    assert newcomer.user is not None and newcomer.user.is_active
    assert _signed_in_user_id(client) == str(newcomer.user_id)
    client.logout()
    response = client.post(reverse("members:login"), {"username": "79112233", "password": NEW_PASSWORD})
    assert response.status_code == 302
    assert _signed_in_user_id(client) == str(newcomer.user_id)


def test_activation_reenables_an_existing_login_with_the_new_password(client, client_for, cast):
    User.objects.filter(pk=cast.member_user.pk).update(is_active=False)
    _, code = _issue_slip(client_for, cast)
    client.logout()
    assert _activate(client, cast.member.card_number, code).status_code == 302
    user = _fresh(cast.member_user)
    assert user.is_active and user.check_password(NEW_PASSWORD)


def test_used_code_is_refused(client, client_for, cast):
    _, code = _issue_slip(client_for, cast)
    client.logout()
    assert _activate(client, cast.member.card_number, code).status_code == 302
    client.logout()
    response = _activate(client, cast.member.card_number, code, password="Another-pass-77")
    assert response.status_code == 200
    assert WRONG_CODE_MESSAGE in response.content.decode()
    assert _fresh(cast.member_user).check_password(NEW_PASSWORD)


def test_expired_code_is_refused(client, client_for, cast, settings):
    _, code = _issue_slip(client_for, cast)
    AccountActivation.objects.update(expires_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    client.logout()
    assert WRONG_CODE_MESSAGE in _activate(client, cast.member.card_number, code).content.decode()


def test_wrong_code_error_does_not_tell_whether_the_member_exists(client, client_for, cast):
    _issue_slip(client_for, cast)
    client.logout()
    known = _activate(client, cast.member.card_number, "ZZZZ-9999")
    unknown = _activate(client, "99999999", "ZZZZ-9999")
    for response in (known, unknown):
        assert response.status_code == 200
        assert response.context["form"].non_field_errors() == known.context["form"].non_field_errors()
    html = known.content.decode()
    # What was typed stays, except the passwords.
    assert f'value="{cast.member.card_number}"' in html and 'value="ZZZZ-9999"' in html
    assert NEW_PASSWORD not in html


def test_five_wrong_codes_kill_the_code(client, client_for, cast):
    _, code = _issue_slip(client_for, cast)
    client.logout()
    for _ in range(5):
        assert WRONG_CODE_MESSAGE in _activate(client, cast.member.card_number, "ZZZZ-9999").content.decode()
    assert AccountActivation.objects.get().failed_attempts == 5
    response = _activate(client, cast.member.card_number, code)
    assert response.status_code == 200
    assert "Ask your cell secretary for a new one" in response.content.decode()
    assert AccountActivation.objects.get().failed_attempts == 5
    assert not _fresh(cast.member_user).check_password(NEW_PASSWORD)


def test_right_code_does_not_spend_an_attempt(client_for, cast):
    _, code = _issue_slip(client_for, cast)
    with pytest.raises(accounts.ActivationError):
        accounts.activation_find(identifier=cast.member.card_number, code="ZZZZ-9999")
    activation = accounts.activation_find(identifier=cast.member.card_number, code=code)
    assert activation.failed_attempts == 1
    assert AccountActivation.objects.get().failed_attempts == 1


def test_weak_or_mismatched_password_keeps_the_code_usable(client, client_for, cast):
    _, code = _issue_slip(client_for, cast)
    client.logout()
    response = _activate(client, cast.member.card_number, code, password="12345678")
    assert response.status_code == 200 and response.context["form"].errors["new_password1"]
    response = _activate(client, cast.member.card_number, code, again="something-else-1")
    assert response.status_code == 200 and response.context["form"].errors["new_password2"]
    activation = AccountActivation.objects.get()
    assert activation.used_at is None and activation.failed_attempts == 0
    assert _activate(client, cast.member.card_number, code).status_code == 302


def test_code_of_a_member_who_left_no_longer_works(client, client_for, cast):
    _, code = _issue_slip(client_for, cast)
    services.member_end(member=cast.member, on=datetime.date.today(), reason="removed", by=cast.secretary_user)
    client.logout()
    assert WRONG_CODE_MESSAGE in _activate(client, cast.member.card_number, code).content.decode()
    assert not _fresh(cast.member_user).is_active


def test_activation_page_query_count_is_bounded(client, client_for, cast, django_assert_max_num_queries):
    _, code = _issue_slip(client_for, cast)
    client.logout()
    with django_assert_max_num_queries(2):
        assert client.get(reverse("members:activate"), {"id": "1", "code": code}).status_code == 200
    with django_assert_max_num_queries(6):
        _activate(client, cast.member.card_number, "ZZZZ-9999")
    with django_assert_max_num_queries(22):  # 2 of them carry e-mail choices made by link to the login
        assert _activate(client, cast.member.card_number, code).status_code == 302


# --- E-mail invitation ---------------------------------------------------------------------------


def test_email_invitation_carries_a_working_link(client, client_for, cast):
    cast.member.email = "duc@example.vn"
    cast.member.save()
    response = client_for(cast.secretary_user).post(reverse("members:account_invite", args=[cast.member.uid]))
    assert response.status_code == 302 and response.url == reverse("members:detail", args=[cast.member.uid])
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["duc@example.vn"]
    assert AccountActivation.objects.get().channel == AccountActivation.Channel.EMAIL
    link = re.search(r"http://testserver/activate/\?\S+", message.body).group(0)
    code = re.search(r"code=([A-Z0-9-]+)", link).group(1)
    assert code in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and code in html
    client.logout()
    form = client.get(link).context["form"]
    assert form.initial == {"identifier": cast.member.card_number, "code": code}
    response = _activate(client, form.initial["identifier"], form.initial["code"])
    assert response.status_code == 302
    assert _fresh(cast.member_user).check_password(NEW_PASSWORD)


def test_invitation_to_member_without_email_is_refused(client_for, cast):
    client = client_for(cast.secretary_user)
    response = client.post(reverse("members:account_invite", args=[cast.member.uid]), follow=True)
    assert "no e-mail address" in response.content.decode()
    assert mail.outbox == [] and not AccountActivation.objects.exists()


def test_smtp_failure_is_reported_not_raised(client_for, cast):
    cast.member.email = "duc@example.vn"
    cast.member.save()
    with mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=SMTPException("down")):
        response = client_for(cast.secretary_user).post(
            reverse("members:account_invite", args=[cast.member.uid]), follow=True
        )
    assert "could not be sent" in response.content.decode()


# --- Disabling -----------------------------------------------------------------------------------


def test_secretary_disables_a_login(client_for, cast):
    _issue_slip(client_for, cast)
    client = client_for(cast.secretary_user)
    response = client.post(reverse("members:account_disable", args=[cast.member.uid]), follow=True)
    assert "is disabled" in response.content.decode()
    assert not _fresh(cast.member_user).is_active
    assert AccountActivation.objects.get().revoked_at is not None
    assert authenticate(username=cast.member.card_number, password=PASSWORD) is None


def test_disabled_member_is_signed_out_of_open_sessions(client, client_for, cast):
    member_client = client_for(cast.member_user)
    assert member_client.get(reverse("members:password_change")).status_code == 200
    accounts.account_disable(member=cast.member, by=cast.secretary_user)
    assert member_client.get(reverse("members:password_change")).status_code == 302


def test_secretary_cannot_disable_her_own_login(client_for, cast):
    client = client_for(cast.secretary_user)
    response = client.post(reverse("members:account_disable", args=[cast.secretary.uid]), follow=True)
    assert "cannot disable your own login" in response.content.decode()
    assert _fresh(cast.secretary_user).is_active


# --- Passwords -----------------------------------------------------------------------------------


def test_member_changes_his_password(client_for, cast):
    client = client_for(cast.member_user)
    assert client.get(reverse("members:password_change")).status_code == 200
    response = client.post(
        reverse("members:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302 and response.url == reverse("members:password_change_done")
    assert client.get(response.url).status_code == 200
    assert authenticate(username=cast.member.card_number, password=NEW_PASSWORD) == cast.member_user


def test_password_reset_by_email(client, cast):
    User.objects.filter(pk=cast.member_user.pk).update(email="duc@example.vn")
    assert client.get(reverse("members:password_reset")).status_code == 200
    response = client.post(reverse("members:password_reset"), {"email": "duc@example.vn"})
    assert response.status_code == 302 and response.url == reverse("members:password_reset_done")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["duc@example.vn"]
    link = re.search(r"http://testserver(/password/reset/\S+/)", mail.outbox[0].body).group(1)
    assert link in mail.outbox[0].alternatives[0][0]
    response = client.get(link, follow=True)
    assert response.context["validlink"]
    response = client.post(
        response.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302 and response.url == reverse("members:password_reset_complete")
    assert authenticate(username=cast.member.card_number, password=NEW_PASSWORD) == cast.member_user


def test_password_reset_for_unknown_address_sends_nothing_and_says_the_same(client, cast):
    response = client.post(reverse("members:password_reset"), {"email": "who@example.vn"})
    assert response.status_code == 302 and response.url == reverse("members:password_reset_done")
    assert mail.outbox == []


def test_slip_for_a_member_without_card_number_uses_the_phone(client, client_for, cast):
    newcomer = MemberFactory(cell=cast.cell_a, card_number=None, phone="0987 654 321")
    response, code = _issue_slip(client_for, cast, newcomer)
    assert "0987654321" in response.content.decode()
    client.logout()
    assert _activate(client, "0987 654 321", code).status_code == 302
    client.logout()
    assert authenticate(username="0987654321", password=NEW_PASSWORD) == User.objects.get(member=newcomer)


def test_no_slip_for_a_member_nobody_can_sign_in_as(client_for, cast):
    newcomer = MemberFactory(cell=cast.cell_a, card_number=None)
    client = client_for(cast.secretary_user)
    response = client.post(reverse("members:account_slip", args=[newcomer.uid]), follow=True)
    assert "party card number or phone first" in response.content.decode()
    assert not AccountActivation.objects.exists()
