import datetime
import time

import pytest
import time_machine
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from cells.models import UnitSetting
from members import two_factor
from members.models import Position, User
from tests.conftest import PASSWORD
from tests.factories import MemberFactory, PositionFactory

LOCKED = "too many wrong sign-in attempts"


@pytest.fixture(autouse=True)
def _clean_axes(db, client, settings):
    # Lock-outs live in the database (rolled back per test); reset anyway, so none can leak.
    axes_reset()
    settings.AXES_FAILURE_LIMIT = 5
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # the throttle has its own test
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    yield
    axes_reset()


def _sign_in(client, identifier, password=PASSWORD, ip="10.0.0.1", **extra):
    return client.post(
        reverse("members:login"), {"username": identifier, "password": password}, REMOTE_ADDR=ip, **extra
    )


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def _code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code the phone shows now (or steps_ahead periods later: a code is accepted only once)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def _require_two_factor(unit):
    UnitSetting.objects.create(unit=unit, key="require_two_factor_for_committee", value=True)


# --- Lock-out ------------------------------------------------------------------------------------


def test_account_is_locked_after_the_configured_failures_from_any_address(cast, client):
    for i in range(4):
        assert _sign_in(client, cast.member.card_number, "wrong", ip=f"10.0.1.{i}").status_code == 200
    response = _sign_in(client, cast.member.card_number, "wrong", ip="10.0.1.99")
    assert response.status_code == 429
    body = response.content.decode()
    assert LOCKED in body and "15 minutes" in body and reverse("members:password_reset") in body
    # Locked means locked: the right password from yet another address does not sign in.
    assert _sign_in(client, cast.member.card_number, ip="10.0.2.1").status_code == 429
    assert not _signed_in(client)
    # Other accounts are not affected.
    assert _sign_in(client, "secretary", ip="10.0.2.2").status_code == 302


def test_every_identifier_of_one_login_counts_against_it(cast, client):
    cast.member.phone = "0912345678"
    cast.member.save()
    for identifier in ("0912345678", "+84 912 345 678", cast.member.card_number.lower(), "MEMBER"):
        _sign_in(client, identifier, "wrong", ip="10.0.3.1" if identifier != "MEMBER" else "10.0.3.2")
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {"member"}
    assert _sign_in(client, "member", "wrong", ip="10.0.3.3").status_code == 429


def test_address_is_locked_after_failures_on_different_accounts(cast, client):
    for identifier in ("secretary", "outsider", "ward", "nobody-1", "nobody-2"):
        _sign_in(client, identifier, "wrong", ip="10.0.4.1")
    assert _sign_in(client, "member", ip="10.0.4.1").status_code == 429
    assert not _signed_in(client)
    assert _sign_in(client, "member", ip="10.0.4.2").status_code == 302


def test_failure_limit_comes_from_settings(cast, client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        assert _sign_in(client, "member", "wrong").status_code == 200
    assert _sign_in(client, "member", "wrong").status_code == 429


def test_lock_out_ends_after_fifteen_minutes(cast, client):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for _ in range(5):
            _sign_in(client, "member", "wrong")
        traveller.shift(datetime.timedelta(minutes=14))
        assert _sign_in(client, "member").status_code == 429
        traveller.shift(datetime.timedelta(minutes=2))
        assert _sign_in(client, "member").status_code == 302 and _signed_in(client)


def test_unknown_and_known_accounts_look_the_same_when_locked(cast, client):
    for _ in range(5):
        known = _sign_in(client, "member", "wrong", ip="10.0.5.1")
        unknown = _sign_in(client, "nobody-at-all", "wrong", ip="10.0.5.2")
    assert known.status_code == unknown.status_code == 429
    assert "member" not in known.content.decode().split("<main", 1)[1]


def test_lock_out_page_speaks_vietnamese_by_default(cast, client):
    del client.cookies["django_language"]
    for _ in range(5):
        response = _sign_in(client, "member", "wrong")
    assert response.status_code == 429 and '<html lang="vi">' in response.content.decode()


def test_behind_the_proxy_addresses_come_from_forwarded_for(cast, client, settings):
    settings.CHIBO_PROXY_COUNT = 1
    for i in range(5):
        _sign_in(client, f"nobody-{i}", "wrong", ip="172.18.0.5", HTTP_X_FORWARDED_FOR="203.0.113.7")
    # Another client behind the same proxy is not locked out with the first.
    assert _sign_in(client, "member", ip="172.18.0.5", HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 302


# --- Two-factor sign-in --------------------------------------------------------------------------


def test_staff_must_set_up_two_factor_when_the_tree_requires_it(cast, client):
    _require_two_factor(cast.province)
    assert _sign_in(client, "staff").status_code == 302 and _signed_in(client)
    home = client.get(reverse("members:home"))
    assert home.status_code == 302 and home.url.startswith(reverse("members:two_factor"))
    assert client.get(reverse("cells:tree")).url.startswith(reverse("members:two_factor"))

    setup = client.get(home.url)
    assert setup.status_code == 200
    body = setup.content.decode()
    assert "<svg" in body and "requires two-factor sign-in" in body
    device = TOTPDevice.objects.get(user=cast.staff_user, confirmed=False)
    assert client.post(reverse("members:two_factor"), {"code": "000000"}).status_code == 200  # wrong: refused
    response = client.post(reverse("members:two_factor"), {"code": _code(device), "next": "/units/"})
    assert response.status_code == 302 and response.url == "/units/"
    assert client.get(reverse("members:home")).status_code == 200

    # Next sign-in: the password alone opens no session; then the code is asked for.
    client.post(reverse("members:logout"))
    client.cookies["django_language"] = "en"
    response = _sign_in(client, "staff")
    assert response.status_code == 302 and response.url.startswith(reverse("members:two_factor_verify"))
    assert not _signed_in(client)
    assert client.get(reverse("members:home")).status_code == 302
    wrong = client.post(reverse("members:two_factor_verify"), {"code": "123456"})
    assert wrong.status_code == 200 and "The code is wrong" in wrong.content.decode() and not _signed_in(client)
    device.refresh_from_db()
    assert client.post(reverse("members:two_factor_verify"), {"code": _code(device, 1)}).status_code == 302
    assert _signed_in(client) and client.get(reverse("members:home")).status_code == 200


def test_a_code_is_accepted_only_once(cast, client):
    device = TOTPDevice.objects.create(user=cast.member_user, confirmed=True)
    code = _code(device)
    _sign_in(client, "member")
    assert client.post(reverse("members:two_factor_verify"), {"code": code}).status_code == 302
    client.post(reverse("members:logout"))
    _sign_in(client, "member")
    assert client.post(reverse("members:two_factor_verify"), {"code": code}).status_code == 200
    assert not _signed_in(client)


def test_wrong_codes_are_throttled(cast, client, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60
    device = TOTPDevice.objects.create(user=cast.member_user, confirmed=True)
    _sign_in(client, "member")
    client.post(reverse("members:two_factor_verify"), {"code": "000000"})
    response = client.post(reverse("members:two_factor_verify"), {"code": _code(device)})
    assert "Too many wrong codes" in response.content.decode() and not _signed_in(client)


def test_the_code_step_expires(cast, client):
    TOTPDevice.objects.create(user=cast.member_user, confirmed=True)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        _sign_in(client, "member")
        traveller.shift(datetime.timedelta(minutes=6))
        response = client.get(reverse("members:two_factor_verify"))
    assert response.status_code == 302 and response.url == reverse("members:login")


def test_two_factor_is_not_required_of_members_or_when_the_setting_is_off(cast, client):
    assert _sign_in(client, "staff").status_code == 302
    assert client.get(reverse("members:home")).status_code == 200  # setting off (the default)
    client.post(reverse("members:logout"))
    _require_two_factor(cast.province)
    assert _sign_in(client, "member").status_code == 302
    assert client.get(reverse("members:home")).status_code == 200  # an ordinary member


def test_the_requirement_follows_the_nearest_setting_in_the_tree(cast):
    def required(user) -> bool:
        return two_factor.is_required(User.objects.get(pk=user.pk))  # a fresh user: grants are cached on it

    _require_two_factor(cast.province)
    assert required(cast.staff_user) and required(cast.secretary_user) and required(cast.ward_user)
    UnitSetting.objects.create(unit=cast.ward, key="require_two_factor_for_committee", value=False)
    assert not required(cast.staff_user) and not required(cast.secretary_user)
    UnitSetting.objects.create(unit=cast.cell_a, key="require_two_factor_for_committee", value=True)
    assert required(cast.secretary_user) and not required(cast.staff_user)
    assert not required(cast.member_user)


def test_any_member_may_turn_two_factor_on_and_off(cast, client):
    _sign_in(client, "member")
    client.get(reverse("members:two_factor"))
    device = TOTPDevice.objects.get(user=cast.member_user)
    assert client.post(reverse("members:two_factor"), {"code": _code(device)}).status_code == 302
    assert two_factor.confirmed_device(cast.member_user) == device
    page = client.get(reverse("members:two_factor")).content.decode()
    assert "Turn off two-factor sign-in" in page
    assert client.post(reverse("members:two_factor"), {"code": "000000"}).status_code == 200
    assert client.post(reverse("members:two_factor"), {"code": _code(device, 1)}).status_code == 302
    assert not TOTPDevice.objects.filter(user=cast.member_user).exists()


def test_required_two_factor_cannot_be_turned_off(cast, client):
    _require_two_factor(cast.province)
    device = TOTPDevice.objects.create(user=cast.staff_user, confirmed=True)
    _sign_in(client, "staff")
    client.post(reverse("members:two_factor_verify"), {"code": _code(device)})
    response = client.post(reverse("members:two_factor"), {"code": _code(device, 1)})
    assert response.status_code == 200 and "cannot be turned off" in response.content.decode()
    assert TOTPDevice.objects.filter(user=cast.staff_user, confirmed=True).exists()


def test_a_session_opened_without_the_code_is_sent_to_the_code_page(cast, client):
    # As after an activation link: signed in by password-less means, the device still asks.
    TOTPDevice.objects.create(user=cast.member_user, confirmed=True)
    client.force_login(cast.member_user)
    session = client.session
    session[two_factor.SESSION_KEY] = two_factor.NEEDS_CHECK
    session.save()
    response = client.get(reverse("members:home"))
    assert response.status_code == 302 and response.url.startswith(reverse("members:two_factor_verify"))
    htmx = client.get(reverse("cells:tree"), HTTP_HX_REQUEST="true")
    assert htmx.status_code == 200 and htmx["HX-Redirect"].startswith(reverse("members:two_factor_verify"))


def test_admin_sign_in_goes_through_our_sign_in(client):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302 and response.url.startswith(reverse("members:login"))


def test_a_committee_member_activating_a_login_must_set_up_two_factor(cast, client):
    _require_two_factor(cast.province)
    newcomer = MemberFactory(full_name="Vũ Thị Lan", cell=cast.cell_a)
    PositionFactory(unit=cast.cell_a, role=Position.Role.COMMITTEE_MEMBER, member=newcomer)
    client.force_login(cast.secretary_user)
    code = client.post(reverse("members:account_slip", args=[newcomer.uid])).context["code"]
    client.post(reverse("members:logout"))
    response = client.post(
        reverse("members:activate"),
        {
            "identifier": newcomer.card_number,
            "code": code,
            "new_password1": "Hoa-sen-2026",
            "new_password2": "Hoa-sen-2026",
        },
    )
    assert response.status_code == 302 and _signed_in(client)
    home = client.get(response.url)
    assert home.status_code == 302 and home.url.startswith(reverse("members:two_factor"))
