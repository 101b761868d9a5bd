"""Reads compiled once per process (config/precompiled.py) give exactly what the queryset gives."""

import datetime
import json
import uuid

import pytest
from django.db.models import Model

from config.precompiled import PrecompiledGet
from meetings.access import _MEETING_BY_UID
from members.access import grants_for
from members.auth import _USER_WITH_MEMBER
from members.models import User
from tests.factories import UserFactory
from tests.meetings.conftest import at

pytestmark = pytest.mark.django_db


TODAY = datetime.date.today()


def fields_of(obj: Model) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_the_user_and_the_member_come_as_the_orm_gives_them(cast):
    expected = User.objects.select_related("member").get(pk=cast.secretary_user.pk)
    got = _USER_WITH_MEMBER.get(cast.secretary_user.pk, day=TODAY)
    assert type(got) is User and fields_of(got) == fields_of(expected)
    assert User.member.related.is_cached(got)  # no second query for the member
    assert fields_of(got.member) == fields_of(expected.member)
    assert got.member.full_name == "Trần Thị Hằng"


def test_a_login_without_a_member_record_has_none(db):
    user = UserFactory(username="nomember")
    got = _USER_WITH_MEMBER.get(user.pk, day=TODAY)
    assert got.username == "nomember" and not hasattr(got, "member")


def test_the_meeting_comes_with_its_unit_and_the_unit_above(cast, schedule, django_assert_num_queries):
    meeting = schedule(start=at(2026, 3, 12), period_month=3, period_year=2026)
    with django_assert_num_queries(1):
        got = _MEETING_BY_UID.get(meeting.uid)
        assert got.unit.name == "Chi bộ Khu phố 1" and got.unit.parent.name == "Đảng bộ phường Tam Đảo"
    assert fields_of(got) == fields_of(meeting.__class__.objects.get(pk=meeting.pk))
    assert got.scheduled_start == meeting.scheduled_start  # an aware datetime, converted as the ORM does


def test_unknown_and_malformed_values_find_nothing(cast):
    assert _MEETING_BY_UID.get(uuid.uuid4()) is None
    assert _MEETING_BY_UID.get("not-a-uuid") is None
    assert _USER_WITH_MEMBER.get(10**12, day=TODAY) is None


def test_a_sample_that_is_not_a_parameter_of_the_query_is_refused(db):
    broken = PrecompiledGet(lambda pk: User.objects.filter(pk=1), field="id", sample=-5)
    with pytest.raises(ValueError):
        broken.get(1)


@pytest.mark.postgres
def test_on_postgresql_the_reads_are_prepared_once_per_connection(cast, schedule):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (prepared statements); CI runs the suite on it")
    meeting = schedule(start=at(2026, 3, 12), period_month=3, period_year=2026)
    for _ in range(3):
        assert _MEETING_BY_UID.get(meeting.uid).pk == meeting.pk
        user = _USER_WITH_MEMBER.get(cast.secretary_user.pk, day=TODAY)
        assert [g.unit_id for g in grants_for(user)] == [cast.cell_a.pk, cast.cell_a.pk]  # secretary, member
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any('FROM "meetings_meeting"' in sql for sql in prepared)
    assert any('FROM "members_user"' in sql for sql in prepared)
    assert any("FROM members_position" in sql for sql in prepared)  # the grants


@pytest.mark.postgres
def test_query_logs_show_the_sql_of_prepared_statements(cast):
    """Django reads a query's SQL from psycopg's last query, which a prepared execution leaves
    empty: the logs compose it from the statement and its parameters (config/precompiled.py)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from config.precompiled import prepared_cursor

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (prepared statements); CI runs the suite on it")
    with CaptureQueriesContext(connection) as ctx:
        with prepared_cursor() as cursor:
            cursor.execute("SELECT name FROM cells_partyunit WHERE id = %s", [cast.cell_a.pk])
            assert cursor.fetchone() == (cast.cell_a.name,)
        with connection.cursor() as cursor:  # a plain cursor keeps Django's own text
            cursor.execute("SELECT %s::int", [7])
    assert [q["sql"] for q in ctx.captured_queries] == [
        f"SELECT name FROM cells_partyunit WHERE id = {cast.cell_a.pk}",
        "SELECT 7::int",
    ]


def test_annotations_of_the_queryset_are_set_on_the_object(cast):
    """The dashboard reads its unit with the summary stamp annotated (cells/views_dashboard.py)."""
    from cells.views_dashboard import _UNIT_BY_UID
    from meetings import summaries

    summaries.bump_stamps(ids=[cast.ward.pk])
    unit = _UNIT_BY_UID.get(cast.ward.uid)
    assert unit.pk == cast.ward.pk and unit.parent.pk == cast.province.pk
    assert unit.summary_stamp == summaries.SummaryStamp.objects.get(unit=cast.ward).stamp
    assert _UNIT_BY_UID.get(cast.group_a.uid).summary_stamp is None  # never stamped
    assert _UNIT_BY_UID.get("not-a-uid") is None


@pytest.mark.postgres
def test_on_postgresql_the_grants_come_with_the_user(cast, client, django_assert_max_num_queries):
    """One statement reads the login, its member record and the day's grants (members.auth):
    grants_for then asks nothing, and gives what its own query gives."""
    from django.db import connection
    from django.utils import timezone

    from members import access

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (the grants as JSON in the user's statement); CI runs the suite on it")
    day = timezone.localdate()
    for user in (cast.secretary_user, cast.ward_user, cast.staff_user):
        got = _USER_WITH_MEMBER.get(user.pk, day=day)
        with django_assert_max_num_queries(0):
            grants = access.remember_grants(got, day, json.loads(got.grants_json))
            assert access.grants_for(got) == grants
        fresh = User.objects.get(pk=user.pk)
        assert sorted(access.grants_for(fresh), key=repr) == sorted(grants, key=repr) and grants
    # An ended member record gives no member grant (as grants_for's own query).
    cast.member.ended_on = day
    cast.member.save(update_fields=["ended_on"])
    got = _USER_WITH_MEMBER.get(cast.member_user.pk, day=day)
    assert json.loads(got.grants_json) == []
    # A signed-in page: the user statement carries the grants, no separate grants query.
    client.force_login(cast.secretary_user)
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/").status_code == 200
    grant_reads = [q["sql"] for q in ctx.captured_queries if "FROM members_position p" in (q["sql"] or "")]
    assert len(grant_reads) == 1 and "json_agg" in grant_reads[0]
