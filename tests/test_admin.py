import datetime

import pytest
from django.contrib import admin
from django.contrib.auth.hashers import make_password
from django.urls import reverse
from django.utils import timezone

from cells.models import PartyUnit, Term, UnitSetting
from members import services
from members.models import (
    AccountActivation,
    Member,
    Membership,
    Position,
    StatusPeriod,
    TemporaryAttachment,
    Transfer,
    User,
)
from tests.factories import MemberFactory, UserFactory

MODELS = [
    PartyUnit,
    Term,
    UnitSetting,
    User,
    Member,
    StatusPeriod,
    Membership,
    TemporaryAttachment,
    Transfer,
    Position,
    AccountActivation,
]
HISTORY_MODELS = [model for model in MODELS if hasattr(model, "history")]


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def records(cast, superuser):
    """At least one row of every model the admin shows, on top of the standard cast."""
    today = timezone.localdate()
    Term.objects.create(unit=cast.cell_a, name="2025–2030", start=datetime.date(2025, 7, 1))
    UnitSetting.objects.create(unit=cast.ward, key="attendance_warning_percent", value=90)
    StatusPeriod.objects.create(member=cast.member, kind=StatusPeriod.Kind.EXEMPTED, start=today, reason="Tuổi cao")
    TemporaryAttachment.objects.create(member=cast.outsider, cell=cast.cell_a, start=today)
    services.transfer_out(member=cast.member, to_cell=cast.cell_b, date=today, by=superuser)
    AccountActivation.objects.create(
        member=cast.member,
        channel=AccountActivation.Channel.SLIP,
        code_hash=make_password("ABCD-EFGH"),
        created_by=superuser,
        expires_at=timezone.now() + datetime.timedelta(days=14),
    )
    return cast


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_model_of_the_tree_and_members_is_registered():
    from members.notifications.models import Notification, NotificationPreference

    registered = {model for model in admin.site._registry if model._meta.app_label in ("cells", "members")}
    # Notifications and their preferences have their own admin tests (tests/notifications: search,
    # the failed filter, the change page, the re-send action; the read-only preference list).
    assert registered == set(MODELS) | {Notification, NotificationPreference}


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_changelist_and_change_page_load_for_a_superuser(client, records, superuser, model):
    client.force_login(superuser)
    assert client.get(_url(model, "changelist")).status_code == 200
    obj = model._default_manager.first()
    assert client.get(_url(model, "change", obj.pk)).status_code == 200
    if model in HISTORY_MODELS:
        assert client.get(_url(model, "history", obj.pk)).status_code == 200


@pytest.mark.parametrize("model", [PartyUnit, Term, UnitSetting, User, StatusPeriod, TemporaryAttachment, Position])
def test_add_page_loads_where_the_admin_may_add(client, superuser, model):
    client.force_login(superuser)
    assert client.get(_url(model, "add")).status_code == 200


@pytest.mark.parametrize("model", [Member, Membership, Transfer, AccountActivation])
def test_records_with_side_effects_cannot_be_added_in_the_admin(client, superuser, model):
    client.force_login(superuser)
    assert client.get(_url(model, "add")).status_code == 403


def test_activation_page_never_shows_the_code_hash(client, records, superuser):
    client.force_login(superuser)
    activation = AccountActivation.objects.get()
    page = client.get(_url(AccountActivation, "change", activation.pk)).content.decode()
    assert activation.code_hash not in page
    assert "code_hash" not in page


@pytest.mark.parametrize("query", ["Trần Thị Hằng", "tran thi hang", "TRẦN THỊ", "Tran Thi Hằng", "hang tran"])
def test_member_search_finds_vietnamese_and_accent_free_text(client, records, superuser, query):
    client.force_login(superuser)
    response = client.get(_url(Member, "changelist"), {"q": query})
    assert response.status_code == 200
    assert [m.full_name for m in response.context["cl"].result_list] == ["Trần Thị Hằng"]


def test_member_search_by_card_number_and_phone(client, records, superuser):
    client.force_login(superuser)
    Member.objects.filter(pk=records.member.pk).update(phone="0912345678")
    for query in [records.outsider.card_number, "0912 345 678"]:
        response = client.get(_url(Member, "changelist"), {"q": query})
        assert len(response.context["cl"].result_list) == 1


def test_unit_search_is_accent_free(client, records, superuser):
    client.force_login(superuser)
    response = client.get(_url(PartyUnit, "changelist"), {"q": "khu pho 1"})
    assert [u.name for u in response.context["cl"].result_list] == ["Chi bộ Khu phố 1"]


def test_admin_refuses_a_second_secretary(client, records, superuser):
    client.force_login(superuser)
    response = client.post(
        _url(Position, "add"),
        {
            "unit": records.cell_a.pk,
            "role": Position.Role.SECRETARY,
            "start": "2024-01-01",
            "member": records.member.pk,
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert Position.objects.filter(unit=records.cell_a, role=Position.Role.SECRETARY).count() == 1


def test_member_changelist_has_a_constant_number_of_queries(client, records, superuser, django_assert_max_num_queries):
    for _ in range(30):
        MemberFactory(cell=records.cell_b)
    client.force_login(superuser)
    with django_assert_max_num_queries(12):
        assert client.get(_url(Member, "changelist")).status_code == 200


def test_membership_correction_keeps_the_cell(client, records, superuser):
    client.force_login(superuser)
    membership = Membership.objects.get(member=records.member)
    response = client.post(
        _url(Membership, "change", membership.pk),
        {"group": "", "start": "2015-01-01", "end": membership.end.isoformat() if membership.end else ""},
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.cell == records.cell_a and membership.group is None


def _resubmit(response, **changes) -> dict:
    """The admin change form's data as the browser would post it back, with some fields changed."""
    forms = [response.context["adminform"].form]
    data = {}
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    for form in forms:
        for field in form:
            value = field.value()
            if value is None or value is False:
                continue
            data[field.html_name] = "on" if value is True else value
    data.update(changes)
    return data


def test_superuser_corrects_a_member_record_in_the_admin(client, records, superuser):
    client.force_login(superuser)
    url = _url(Member, "change", records.secretary.pk)
    versions = records.secretary.history.count()
    response = client.post(url, _resubmit(client.get(url), full_name="Trần  Thị   Hằng", phone="0912 000 111"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    records.secretary.refresh_from_db()
    assert (records.secretary.full_name, records.secretary.phone) == ("Trần Thị Hằng", "0912000111")
    assert records.secretary.history.count() == versions + 1
    assert records.secretary.history.latest().history_user == superuser
    # The model's rules hold in the admin too: nobody is admitted before 18.
    response = client.post(url, _resubmit(client.get(url), admitted_on="1981-01-01"))
    assert response.status_code == 200
    assert "admitted_on" in response.context["adminform"].form.errors
