import datetime

import pytest
from django.urls import reverse

from members.models import Member, Membership, Transfer
from tests.factories import MemberFactory


def _member_data(**over):
    data = {
        "full_name": "  Nguyễn Thị Hằng ",
        "gender": "female",
        "birth_date": "1990-04-12",
        "card_number": "79123456",
        "admitted_on": "2015-05-19",
        "full_member_on": "2016-05-19",
        "phone": "0912 345 678",
        "email": "hang@example.org",
        "joined_on": "2020-01-01",
    }
    data.update(over)
    return data


def test_secretary_adds_a_member_to_her_cell(cast, client_for):
    client = client_for(cast.secretary_user)
    response = client.post(reverse("members:create", args=[cast.cell_a.uid]), _member_data(group=cast.group_a.pk))
    assert response.status_code == 302
    member = Member.objects.get(card_number="79123456")
    assert member.full_name == "Nguyễn Thị Hằng" and member.phone == "0912345678"
    membership = member.memberships.get()
    assert membership.cell == cast.cell_a and membership.group == cast.group_a
    assert member.home_unit == cast.cell_a


@pytest.mark.parametrize(
    ("over", "field", "text"),
    [
        ({"full_member_on": "2015-12-01"}, "full_member_on", "12 months"),
        ({"admitted_on": "2005-01-01"}, "admitted_on", "18"),
        ({"card_number": "EXISTING"}, "card_number", "card number"),
        ({"birth_date": "2099-01-01"}, "birth_date", "future"),
        ({"joined_on": "2010-01-01"}, "joined_on", "before being admitted"),
    ],
)
def test_member_form_rejects_bad_input_and_keeps_what_was_typed(cast, client_for, settings, over, field, text):
    MemberFactory(card_number="EXISTING", cell=cast.cell_b)
    client = client_for(cast.secretary_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(reverse("members:create", args=[cast.cell_a.uid]), _member_data(**over))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and text in " ".join(errors[field])
    assert 'value="Nguyễn Thị Hằng"' in response.content.decode() or "Nguyễn Thị Hằng" in response.content.decode()
    assert not Member.objects.filter(card_number="79123456").exists()


def test_read_only_ward_member_gets_403_on_writes(cast, client_for):
    client = client_for(cast.ward_user)
    assert client.get(reverse("members:detail", args=[cast.member.uid])).status_code == 200
    assert client.get(reverse("members:edit", args=[cast.member.uid])).status_code == 403
    assert client.get(reverse("members:create", args=[cast.cell_a.uid])).status_code == 403
    assert client.get(reverse("members:transfer_out", args=[cast.member.uid])).status_code == 403


def test_member_sees_his_own_record_and_not_a_colleagues(cast, client_for):
    client = client_for(cast.member_user)
    assert client.get(reverse("members:detail", args=[cast.member.uid])).status_code == 200
    assert client.get(reverse("members:detail", args=[cast.secretary.uid])).status_code == 404
    assert client.get(reverse("members:edit", args=[cast.member.uid])).status_code == 403


@pytest.mark.parametrize(
    ("query", "expected"),
    [("nguyen thi hang", "Nguyễn Thị Hằng"), ("dang", "Đặng Văn Lâm"), ("NGUYỄN", "Nguyễn Thị Hằng")],
)
def test_member_list_search_ignores_accents(cast, client_for, query, expected):
    MemberFactory(full_name="Nguyễn Thị Hằng", cell=cast.cell_a)
    MemberFactory(full_name="Đặng Văn Lâm", cell=cast.cell_a)
    response = client_for(cast.secretary_user).get(reverse("cells:detail", args=[cast.cell_a.uid]), {"q": query})
    names = [m.full_name for m, _, _ in response.context["rows"]]
    assert expected in names and "Lê Văn Đức" not in names


def test_member_list_filters_by_status_and_group(cast, client_for):
    MemberFactory(
        full_name="Hoàng Dự Bị",
        cell=cast.cell_a,
        admitted_on=datetime.date.today(),
        full_member_on=None,
        birth_date=datetime.date(1995, 1, 1),
    )
    client = client_for(cast.secretary_user)
    url = reverse("cells:detail", args=[cast.cell_a.uid])
    names = [m.full_name for m, _, _ in client.get(url, {"status": "probationary"}).context["rows"]]
    assert names == ["Hoàng Dự Bị"]
    names = [m.full_name for m, _, _ in client.get(url, {"group": str(cast.group_a.uid)}).context["rows"]]
    assert names == ["Lê Văn Đức"]


def test_member_list_htmx_returns_only_the_fragment(cast, client_for):
    response = client_for(cast.secretary_user).get(
        reverse("cells:detail", args=[cast.cell_a.uid]),
        {"q": "duc"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="member-list",
    )
    body = response.content.decode()
    assert body.strip().startswith('<div id="member-list">') and "Lê Văn Đức" in body and "<nav" not in body[:50]


def test_member_list_runs_a_constant_number_of_queries(cast, client_for, count_queries, django_assert_max_num_queries):
    client = client_for(cast.secretary_user)
    url = reverse("cells:detail", args=[cast.cell_a.uid])
    small, _ = count_queries(lambda: client.get(url))
    for _ in range(60):
        MemberFactory(cell=cast.cell_a, group=cast.group_a)
    with django_assert_max_num_queries(small):
        response = client.get(url)
    assert len(response.context["rows"]) == 25 and small <= 22


def test_member_detail_runs_a_constant_number_of_queries(cast, client_for, django_assert_max_num_queries):
    client = client_for(cast.secretary_user)
    # Record, roll, periods, positions, transfers, read log and the attendance/discipline panel.
    with django_assert_max_num_queries(22):
        assert client.get(reverse("members:detail", args=[cast.member.uid])).status_code == 200


def test_transfer_out_and_accept_moves_member_and_access(cast, client, client_for):
    client = client_for(cast.secretary_user)
    response = client.post(
        reverse("members:transfer_out", args=[cast.member.uid]),
        {"to_cell": cast.cell_b.pk, "date": datetime.date.today().isoformat(), "reason": "Chuyển nơi cư trú"},
    )
    assert response.status_code == 302
    transfer = Transfer.objects.get(member=cast.member)
    assert transfer.state == Transfer.State.PENDING
    # The receiving cell has no secretary in the cast; staff above both accepts.
    client.force_login(cast.staff_user)
    assert client.post(reverse("members:transfer_accept", args=[transfer.uid])).status_code == 302
    transfer.refresh_from_db()
    assert transfer.state == Transfer.State.ACCEPTED
    assert Membership.objects.get(member=cast.member, end__isnull=True).cell == cast.cell_b
    client.force_login(cast.member_user)
    assert client.get(reverse("cells:detail", args=[cast.cell_b.uid])).status_code == 200
    assert client.get(reverse("cells:detail", args=[cast.cell_a.uid])).status_code == 404
    # The old secretary no longer sees the record.
    client.force_login(cast.secretary_user)
    assert client.get(reverse("members:detail", args=[cast.member.uid])).status_code == 404


def test_sending_secretary_cannot_accept_her_own_transfer(cast, client_for):
    client = client_for(cast.secretary_user)
    client.post(
        reverse("members:transfer_out", args=[cast.member.uid]),
        {"to_cell": cast.cell_b.pk, "date": datetime.date.today().isoformat()},
    )
    transfer = Transfer.objects.get(member=cast.member)
    assert client.post(reverse("members:transfer_accept", args=[transfer.uid])).status_code == 403


def test_transfer_needs_a_destination(cast, client_for):
    response = client_for(cast.secretary_user).post(
        reverse("members:transfer_out", args=[cast.member.uid]), {"date": datetime.date.today().isoformat()}
    )
    assert response.status_code == 200 and response.context["form"].non_field_errors()


def test_secretary_records_a_deputy(cast, client_for):
    response = client_for(cast.secretary_user).post(
        reverse("members:position_create", args=[cast.cell_a.uid]),
        {"role": "deputy", "member": cast.member.pk, "start": "2024-01-01"},
    )
    assert response.status_code == 302
    assert cast.member.positions.get().role == "deputy"


def test_second_secretary_on_the_same_date_is_refused(cast, client_for):
    response = client_for(cast.secretary_user).post(
        reverse("members:position_create", args=[cast.cell_a.uid]),
        {"role": "secretary", "member": cast.member.pk, "start": "2024-01-01"},
    )
    assert response.status_code == 200 and response.context["form"].errors["role"]


def test_member_end_disables_login(cast, client_for):
    response = client_for(cast.secretary_user).post(
        reverse("members:end", args=[cast.member.uid]),
        {"on": datetime.date.today().isoformat(), "reason": "died", "confirm": "on"},
    )
    assert response.status_code == 302
    cast.member_user.refresh_from_db()
    assert not cast.member_user.is_active


def test_home_fits_each_role(cast, client_for):
    body = client_for(cast.secretary_user).get(reverse("members:home")).content.decode()
    assert "Chi bộ Khu phố 1" in body and reverse("members:create", args=[cast.cell_a.uid]) in body
    body = client_for(cast.ward_user).get(reverse("members:home")).content.decode()
    assert "Đảng bộ phường Tam Đảo" in body
    body = client_for(cast.member_user).get(reverse("members:home")).content.decode()
    assert "Lê Văn Đức" in body and reverse("members:create", args=[cast.cell_a.uid]) not in body
