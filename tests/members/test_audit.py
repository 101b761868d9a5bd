import datetime
import io
import random
import re

import pytest
from django.urls import reverse

from cells import seed as cells_seed
from cells import services as cell_services
from cells.models import PartyUnit, UnitSetting
from members import audit, services
from members import seed as members_seed
from members.models import Member, MemberReadLog, Membership, Position, StatusPeriod
from tests.factories import UserFactory

WHEN = re.compile(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}")


@pytest.fixture(autouse=True)
def _english(client, settings):
    # The interface is Vietnamese first; these tests read the English msgids.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def _member_form_data(member, **changes):
    data = {
        "full_name": member.full_name,
        "gender": member.gender,
        "birth_date": member.birth_date.isoformat(),
        "card_number": member.card_number or "",
        "admitted_on": member.admitted_on.isoformat(),
        "full_member_on": member.full_member_on.isoformat() if member.full_member_on else "",
        "phone": member.phone,
        "email": member.email,
    }
    return {**data, **changes}


def _history(client, member):
    response = client.get(reverse("members:member_history", args=[member.uid]))
    assert response.status_code == 200
    return response


def _changes(response) -> set[tuple[str, str, str]]:
    return {(c.label, c.old, c.new) for e in response.context["entries"] for c in e.changes}


# --- Every change path leaves a history row -------------------------------------------------------


def test_editing_a_member_in_the_form_records_who_changed_what(cast, client_for):
    client = client_for(cast.secretary_user)
    response = client.post(
        reverse("members:edit", args=[cast.member.uid]),
        _member_form_data(cast.member, phone="0912345678", group=cast.group_a.pk),
    )
    assert response.status_code == 302
    row = Member.history.filter(id=cast.member.pk).latest("history_date")
    assert row.history_type == "~" and row.history_user == cast.secretary_user

    response = _history(client, cast.member)
    entry = response.context["entries"][0]
    assert entry.who == "Trần Thị Hằng" and entry.kind == "changed"
    assert [(c.label, c.old, c.new) for c in entry.changes] == [("Phone", "—", "0912345678")]
    body = response.content.decode()
    assert WHEN.search(body) and "0912345678" in body and "Trần Thị Hằng" in body


def test_admin_change_view_records_history(cast, client):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    period = services.status_period_add(
        member=cast.member, kind=StatusPeriod.Kind.EXEMPTED, start=datetime.date(2024, 1, 1), reason="Ốm", by=admin
    )
    client.force_login(admin)
    response = client.post(
        reverse("admin:members_statusperiod_change", args=[period.pk]),
        {"member": cast.member.pk, "kind": "exempted", "start": "2024-01-01", "end": "2024-06-30", "reason": "Ốm"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    row = StatusPeriod.history.filter(id=period.pk).latest("history_date")
    assert row.history_type == "~" and row.history_user == admin
    assert ("Until", "—", "30/06/2024") in _changes(_history(client, cast.member))


def test_service_change_records_history(cast, client_for):
    before = Member.history.filter(id=cast.member.pk).count()
    services.member_update(member=cast.member, works_away=True, by=cast.secretary_user)
    assert Member.history.filter(id=cast.member.pk).count() == before + 1
    assert ("Works away", "No", "Yes") in _changes(_history(client_for(cast.ward_user), cast.member))


def test_seed_keeps_history_for_every_record(db):
    # The tree and members steps of seed_demo (its meeting steps are slow and not audited here).
    rng = random.Random(2026)
    cells_seed.seed(io.StringIO(), rng)
    members_seed.seed(io.StringIO(), rng)
    for model in (PartyUnit, Member, Membership, Position):
        created = set(model.history.filter(history_type="+").values_list("id", flat=True))
        assert created == set(model.objects.values_list("pk", flat=True)), model.__name__


# --- The member history page ---------------------------------------------------------------------


def test_member_history_merges_the_record_memberships_periods_and_positions_newest_first(cast, client_for):
    services.status_period_add(
        member=cast.member, kind="suspended", start=datetime.date(2025, 2, 1), reason="Kỷ luật", by=cast.secretary_user
    )
    position = services.position_add(
        unit=cast.cell_a,
        role=Position.Role.COMMITTEE_MEMBER,
        start=datetime.date(2025, 1, 1),
        member=cast.member,
        by=cast.secretary_user,
    )
    services.position_end(position=position, end=datetime.date(2025, 12, 31), by=cast.secretary_user)
    response = _history(client_for(cast.secretary_user), cast.member)
    entries = response.context["entries"]
    subjects = [e.subject for e in entries]
    assert subjects[0] == "Committee member — Chi bộ Khu phố 1" and entries[0].kind == "changed"
    assert entries[0].changes[0].label == "Until" and entries[0].changes[0].new == "31/12/2025"
    assert "Suspended (01/02/2025)" in subjects
    assert "Membership: Chi bộ Khu phố 1" in subjects and "Member record" in subjects
    assert [e.when for e in entries] == sorted((e.when for e in entries), reverse=True)
    # A created record lists what it was created with; choices and foreign keys read as names.
    created = next(e for e in entries if e.subject.startswith("Membership"))
    assert ("Party group", "—", "Tổ đảng số 1") in {(c.label, c.old, c.new) for c in created.changes}


def test_history_shows_system_for_changes_without_a_person(cast, client_for):
    # The cast's rows were saved outside any request.
    entries = _history(client_for(cast.secretary_user), cast.member).context["entries"]
    assert entries[-1].who == "system"


def test_member_history_access(cast, client_for):
    url = reverse("members:member_history", args=[cast.member.uid])
    assert client_for(cast.outsider_user).get(url).status_code == 404
    assert client_for(cast.member_user).get(url).status_code == 403  # his own record, no audit right
    assert (
        client_for(cast.member_user).get(reverse("members:member_history", args=[cast.secretary.uid])).status_code
        == 404
    )
    for user in (cast.secretary_user, cast.ward_user, cast.staff_user):
        assert client_for(user).get(url).status_code == 200


def test_opening_the_history_is_logged_as_a_read(cast, client_for):
    _history(client_for(cast.staff_user), cast.member)
    assert MemberReadLog.objects.filter(member=cast.member, user=cast.staff_user).count() == 1


def test_member_history_is_paginated_with_a_constant_number_of_queries(
    cast, client_for, count_queries, django_assert_max_num_queries
):
    client = client_for(cast.secretary_user)
    url = reverse("members:member_history", args=[cast.member.uid])
    client.get(url)  # the session and the first read are set up
    services.status_period_add(
        member=cast.member, kind="exempted", start=datetime.date(2024, 1, 1), reason="Ốm", by=cast.secretary_user
    )
    small, _ = count_queries(lambda: client.get(url))
    for i in range(40):
        services.member_update(member=cast.member, phone=f"09{i:08d}", by=cast.secretary_user)
    # Entries of every kind on the page, pointing at other members and units (names in one query).
    for i in range(5):
        position = services.position_add(
            unit=PartyUnit.objects.create(kind="cell", name=f"Chi bộ {i}", parent=cast.ward),
            role="committee",
            start=datetime.date(2021, 1, 1),
            member=cast.member,
            by=cast.secretary_user,
        )
        services.position_end(position=position, end=datetime.date(2022, 1, 1), by=cast.secretary_user)
    with django_assert_max_num_queries(small):
        response = client.get(url)
    assert len(response.context["entries"]) == audit.PAGE_SIZE
    assert response.context["page"].paginator.count > 40
    second = client.get(url, {"page": 2})
    assert second.status_code == 200 and len(second.context["entries"]) > 0


# --- The unit history page -----------------------------------------------------------------------


def test_unit_history_shows_the_unit_its_positions_terms_and_settings(cast, client_for):
    client = client_for(cast.staff_user)
    cell_services.unit_update(unit=cast.cell_a, name="Chi bộ Khu phố Một", by=cast.staff_user)
    cell_services.term_add(unit=cast.cell_a, name="2025–2030", start=datetime.date(2025, 7, 1), by=cast.staff_user)
    UnitSetting.objects.create(unit=cast.cell_a, key="meeting_min_minutes", value=120)
    response = client.get(reverse("members:unit_history", args=[cast.cell_a.uid]))
    assert response.status_code == 200
    subjects = [e.subject for e in response.context["entries"]]
    assert "Setting: meeting_min_minutes" in subjects and "Term 2025–2030" in subjects
    assert "Secretary: Trần Thị Hằng" in subjects and "Unit record" in subjects
    assert ("Name", "Chi bộ Khu phố 1", "Chi bộ Khu phố Một") in _changes(response)
    assert ("Value", "—", "120") in _changes(response)


def test_unit_history_access(cast, client_for):
    url = reverse("members:unit_history", args=[cast.cell_a.uid])
    assert client_for(cast.outsider_user).get(url).status_code == 404
    assert client_for(cast.member_user).get(url).status_code == 403
    assert client_for(cast.secretary_user).get(reverse("members:unit_history", args=[cast.ward.uid])).status_code == 404
    for user in (cast.secretary_user, cast.ward_user, cast.staff_user):
        assert client_for(user).get(url).status_code == 200


def test_unit_history_runs_a_constant_number_of_queries(cast, client_for, count_queries, django_assert_max_num_queries):
    client = client_for(cast.staff_user)
    url = reverse("members:unit_history", args=[cast.ward.uid])
    small, _ = count_queries(lambda: client.get(url))
    for i in range(30):
        cell_services.unit_update(unit=cast.ward, short_name=f"ĐU {i}", by=cast.staff_user)
        UnitSetting.objects.update_or_create(unit=cast.ward, key="meeting_min_minutes", defaults={"value": 90 + i})
    with django_assert_max_num_queries(small):
        response = client.get(url)
    assert len(response.context["entries"]) == audit.PAGE_SIZE


# --- The read log --------------------------------------------------------------------------------


def test_secretary_opening_a_member_record_is_logged(cast, client_for):
    client_for(cast.secretary_user).get(reverse("members:detail", args=[cast.member.uid]))
    read = MemberReadLog.objects.get()
    assert (read.user, read.member, read.ip) == (cast.secretary_user, cast.member, "127.0.0.1")


def test_member_opening_his_own_record_is_not_logged(cast, client_for):
    assert client_for(cast.member_user).get(reverse("members:detail", args=[cast.member.uid])).status_code == 200
    assert not MemberReadLog.objects.exists()


def test_read_log_takes_the_client_address_behind_the_proxy(cast, client_for, settings):
    settings.CHIBO_PROXY_COUNT = 1
    client_for(cast.secretary_user).get(
        reverse("members:detail", args=[cast.member.uid]), HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7"
    )
    assert MemberReadLog.objects.get().ip == "203.0.113.7"


def test_staff_see_who_opened_a_record(cast, client_for):
    client_for(cast.secretary_user).get(reverse("members:detail", args=[cast.member.uid]))
    response = client_for(cast.staff_user).get(reverse("members:member_reads", args=[cast.member.uid]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Trần Thị Hằng" in body and WHEN.search(body)


def test_member_reads_access(cast, client_for):
    url = reverse("members:member_reads", args=[cast.member.uid])
    assert client_for(cast.outsider_user).get(url).status_code == 404
    assert client_for(cast.member_user).get(url).status_code == 403
    for user in (cast.secretary_user, cast.ward_user, cast.staff_user):
        assert client_for(user).get(url).status_code == 200


def test_member_reads_runs_a_constant_number_of_queries(cast, client_for, count_queries, django_assert_max_num_queries):
    client = client_for(cast.staff_user)
    url = reverse("members:member_reads", args=[cast.member.uid])
    MemberReadLog.objects.create(user=cast.secretary_user, member=cast.member)
    small, _ = count_queries(lambda: client.get(url))
    readers = [UserFactory() for _ in range(30)]
    MemberReadLog.objects.bulk_create(MemberReadLog(user=u, member=cast.member) for u in readers)
    with django_assert_max_num_queries(small):
        response = client.get(url)
    assert len(response.context["page"].object_list) == audit.PAGE_SIZE


@pytest.mark.parametrize("proxies,forwarded,expected", [(0, "1.2.3.4", "127.0.0.1"), (1, "", "127.0.0.1")])
def test_client_address_trusts_forwarded_for_only_behind_a_proxy(rf, settings, proxies, forwarded, expected):
    settings.CHIBO_PROXY_COUNT = proxies
    request = rf.get("/", HTTP_X_FORWARDED_FOR=forwarded) if forwarded else rf.get("/")
    assert audit.client_address(request) == expected
