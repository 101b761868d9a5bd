"""The dashboard's resolution and task counts come from per-unit month rows (resolutions/counts.py)
that follow every write path and agree with a count over the raw tables."""

import datetime

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from cells import services as unit_services
from cells import stats
from cells.models import PartyUnit
from meetings import summaries
from resolutions import counts
from resolutions.models import ResolutionMonth, Task
from resolutions.services import tasks as task_services
from tests.factories import UnitFactory
from tests.resolutions.conftest import _media, issue, make_draft, passed_draft, term, written  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db
D = datetime.date


def year(y: int) -> stats.Period:
    return stats.Period.year(y, today=D(2030, 1, 1))


def agree(*units, period=None, unit_type=None):
    """The stored counts equal the live ones for each unit, and the whole table checks clean."""
    period = period or year(2026)
    for unit in units:
        stored = stats.resolution_counts(unit, period, unit_type)
        assert stored == stats.live_resolution_counts(unit, period, unit_type), unit.name
    assert counts.check() == []
    return [stats.resolution_counts(u, period, unit_type) for u in units]


def test_issuing_counts_the_resolution_in_the_cell_and_every_ancestor(cast, issue, passed_draft):  # noqa: F811
    resolution = issue(passed_draft)
    period = year(resolution.issued_on.year)
    assert agree(cast.cell_a, cast.ward, cast.province, cast.cell_b, period=period) == [
        (1, 0, 0),
        (1, 0, 0),
        (1, 0, 0),
        (0, 0, 0),
    ]
    ym = summaries.ym_of(resolution.issued_on.year, resolution.issued_on.month)
    assert set(ResolutionMonth.objects.filter(ym=ym).values_list("unit_id", flat=True)) == {
        cast.cell_a.pk,
        cast.ward.pk,
        cast.province.pk,
    }


def test_tasks_follow_creation_due_date_status_and_deletion(cast):
    by = cast.secretary_user
    task = task_services.task_create(
        unit=cast.cell_a, text_="Rà soát hộ nghèo", by=by, due_on=D(2026, 3, 20), assigned_to_committee=True
    )
    assert agree(cast.cell_a, cast.ward, cast.province) == [(0, 1, 0)] * 3
    task_services.task_set_status(task=task, status=Task.Status.DONE, by=by)
    assert agree(cast.ward) == [(0, 1, 1)]
    march, may = stats.Period.month(2026, 3, today=D(2030, 1, 1)), stats.Period.month(2026, 5, today=D(2030, 1, 1))
    task_services.task_update(
        task=task, by=by, text_="Rà soát hộ nghèo", due_on=D(2026, 5, 2), assignees=[], assigned_to_committee=True
    )
    assert agree(cast.ward, period=march) == [(0, 0, 0)]
    assert agree(cast.ward, period=may) == [(0, 1, 1)]
    task_services.task_set_status(task=task, status=Task.Status.IN_PROGRESS, by=by)
    assert agree(cast.province, period=may) == [(0, 1, 0)]
    task_services.task_update(
        task=task, by=by, text_="Rà soát hộ nghèo", due_on=None, assignees=[], assigned_to_committee=True
    )
    assert agree(cast.province) == [(0, 0, 0)]
    other = task_services.task_create(
        unit=cast.cell_b, text_="Thu quỹ", by=by, due_on=D(2026, 7, 1), assigned_to_committee=True
    )
    assert agree(cast.cell_b, cast.ward) == [(0, 1, 0), (0, 1, 0)]
    Task.objects.filter(pk=other.pk).delete()  # the admin's bulk delete: a queryset, not the service
    assert agree(cast.cell_b, cast.ward) == [(0, 0, 0), (0, 0, 0)]


def test_a_save_outside_the_services_is_counted_too(cast, admin_client):
    """The admin's change form saves the model: the counts follow without a service."""
    task = Task.objects.create(unit=cast.cell_a, text="Thăm hỏi gia đình chính sách", due_on=D(2026, 9, 2))
    assert agree(cast.ward) == [(0, 1, 0)]
    url = reverse("admin:resolutions_task_change", args=[task.pk])
    data = {
        "unit": cast.cell_a.pk,
        "text": task.text,
        "due_on": "2026-10-05",
        "status": Task.Status.DONE,
        "order": 0,
        "completed_on": "2026-10-04",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].errors if response.context else response
    task.refresh_from_db()
    assert task.due_on == D(2026, 10, 5)
    october = stats.Period.month(2026, 10, today=D(2030, 1, 1))
    assert agree(cast.ward, period=october) == [(0, 1, 1)]


def test_a_save_of_some_fields_counts_only_what_it_writes(cast):
    task = Task.objects.create(unit=cast.cell_a, text="Kiểm tra đảng viên", due_on=D(2026, 8, 10))
    task.status = Task.Status.DONE  # changed in memory only
    task.text = "Kiểm tra, giám sát đảng viên"
    task.save(update_fields=["text"])
    assert agree(cast.ward) == [(0, 1, 0)]
    task.save(update_fields=["status"])
    assert agree(cast.ward) == [(0, 1, 1)]


def test_a_moved_cell_takes_its_counts_to_its_new_ancestors(cast, issue, passed_draft):  # noqa: F811
    resolution = issue(passed_draft)
    task_services.task_create(
        unit=cast.cell_a,
        text_="Phát triển đảng viên",
        by=cast.secretary_user,
        due_on=D(2026, 4, 1),
        assigned_to_committee=True,
    )
    other_ward = UnitFactory(kind=PartyUnit.Kind.GRASSROOTS_COMMITTEE, name="Đảng ủy xã Tam Hồng", parent=cast.province)
    period = year(resolution.issued_on.year)
    unit_services.unit_update(unit=cast.cell_a, parent=other_ward, by=cast.staff_user)
    cast.cell_a.refresh_from_db()
    both = period.low <= summaries.ym_of(2026, 4) <= period.high
    expected = (1, int(both), 0)
    assert agree(cast.ward, other_ward, cast.province, cast.cell_a, period=period) == [
        (0, 0, 0),
        expected,
        expected,
        expected,
    ]


def test_a_retyped_cell_moves_its_counts_to_the_new_type(cast):
    task_services.task_create(
        unit=cast.cell_a,
        text_="Sinh hoạt chuyên đề",
        by=cast.secretary_user,
        due_on=D(2026, 6, 1),
        assigned_to_committee=True,
    )
    old_type = cast.cell_a.unit_type
    new_type = next(t for t in PartyUnit.UnitType.values if t != old_type)
    unit_services.unit_update(unit=cast.cell_a, unit_type=new_type, by=cast.staff_user)
    assert agree(cast.province, unit_type=new_type) == [(0, 1, 0)]
    assert agree(cast.province, unit_type=old_type) == [(0, 0, 0)]


def test_bulk_writes_are_found_by_the_check_and_mended_by_the_rebuild(cast):
    Task.objects.bulk_create([Task(unit=cast.cell_b, text=f"Việc {n}", due_on=D(2026, 2, n + 1)) for n in range(3)])
    problems = counts.check()
    assert problems and all("tasks_due stored 0 live 3" in p for p in problems)
    assert len(problems) == 3  # the cell, the ward, the province
    with pytest.raises(Exception, match="difference"):
        call_command("rebuild_summaries", "--check", verbosity=0)
    call_command("rebuild_summaries", verbosity=0)
    assert agree(cast.cell_b, cast.ward, cast.province) == [(0, 3, 0)] * 3


def test_the_dashboard_shows_the_stored_counts_in_a_constant_number_of_queries(
    cast, client_for, django_assert_max_num_queries
):
    from tests.dashboard.test_fragments import page, province_staff, resolutions_shown

    client = client_for(province_staff(cast))
    this_year = {"period": "year", "year": str(timezone.localdate().year)}
    page(client, cast.ward, this_year)
    with django_assert_max_num_queries(8):
        assert resolutions_shown(page(client, cast.ward, this_year)) == "0"
    today = timezone.localdate()
    for n in range(5):
        Task.objects.create(unit=cast.cell_a, text=f"Việc {n}", due_on=today, status=Task.Status.DONE)
    with django_assert_max_num_queries(8):
        html = page(client, cast.ward, this_year)
    assert '<div class="fs-5 fw-semibold">5 / 5</div>' in html
