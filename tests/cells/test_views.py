from django.urls import reverse

from cells.models import PartyUnit
from tests.factories import MemberFactory, UnitFactory


def test_tree_shows_ward_committee_member_both_cells_with_counts(cast, client_for):
    response = client_for(cast.ward_user).get(reverse("cells:tree"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Chi bộ Khu phố 1" in body and "Chi bộ Khu phố 2" in body
    assert "Đảng bộ tỉnh Vĩnh Phúc" not in body  # above his scope


def test_member_tree_shows_only_his_cell(cast, client_for):
    body = client_for(cast.member_user).get(reverse("cells:tree")).content.decode()
    assert "Chi bộ Khu phố 1" in body and "Chi bộ Khu phố 2" not in body


def test_member_sees_his_cell_page_without_the_member_list(cast, client_for):
    response = client_for(cast.member_user).get(reverse("cells:detail", args=[cast.cell_a.uid]))
    assert response.status_code == 200
    assert "Trần Thị Hằng" in response.content.decode()  # the secretary, in the committee box
    assert "Phạm" not in response.content.decode()
    assert response.context["rows"] is None if "rows" in response.context else True
    assert not response.context["can_view_members"]


def test_member_of_other_cell_gets_404_on_cell_page(cast, client_for):
    assert client_for(cast.outsider_user).get(reverse("cells:detail", args=[cast.cell_a.uid])).status_code == 404


def test_ward_member_cannot_create_units_but_staff_can(cast, client_for, client):
    url = reverse("cells:create", args=[cast.ward.uid])
    assert client_for(cast.ward_user).get(url).status_code == 403
    client.force_login(cast.staff_user)
    response = client.post(url, {"kind": "cell", "unit_type": "residential", "name": "Chi bộ Khu phố 3"})
    assert response.status_code == 302
    unit = PartyUnit.objects.get(name="Chi bộ Khu phố 3")
    assert unit.parent == cast.ward and unit.path.startswith(cast.ward.path)


def test_group_cannot_hold_sub_units(cast, client):
    client.force_login(cast.staff_user)
    response = client.post(
        reverse("cells:create", args=[cast.group_a.uid]), {"kind": "group", "unit_type": "other", "name": "X"}
    )
    assert response.status_code == 200
    assert not PartyUnit.objects.filter(name="X").exists()


def _big_ward(cast, cells=55, members_per_cell=2):
    for i in range(cells):
        cell = UnitFactory(kind=PartyUnit.Kind.CELL, name=f"Chi bộ thôn {i}", parent=cast.ward)
        UnitFactory(kind=PartyUnit.Kind.GROUP, name=f"Tổ {i}", parent=cell)
        for _ in range(members_per_cell):
            MemberFactory(cell=cell)


def test_tree_runs_a_constant_number_of_queries(cast, client_for, count_queries, django_assert_max_num_queries):
    client = client_for(cast.ward_user)
    small, _ = count_queries(lambda: client.get(reverse("cells:tree")))
    _big_ward(cast, cells=55)
    with django_assert_max_num_queries(small):
        response = client.get(reverse("cells:tree"))
    assert response.status_code == 200 and small <= 14
    assert response.content.decode().count("<li>") >= 55 * 2


def test_unit_page_of_a_committee_with_60_cells_runs_constant_queries(
    cast, client_for, count_queries, django_assert_max_num_queries
):
    client = client_for(cast.ward_user)
    url = reverse("cells:detail", args=[cast.ward.uid])
    small, _ = count_queries(lambda: client.get(url))
    _big_ward(cast, cells=60)
    with django_assert_max_num_queries(small):
        response = client.get(url)
    assert len(response.context["children"]) == 62
