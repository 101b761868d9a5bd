"""The standard cast (STYLE.md): province → ward → two cells; a secretary and a member in
cell A, a member in cell B (the outsider), a ward committee member (read-only over both)."""

import datetime
import os
from types import SimpleNamespace

import pytest

from cells.models import PartyUnit
from members.models import Position
from tests.factories import MemberFactory, PositionFactory, UnitFactory, UserFactory

# Playwright's sync API runs an event loop in the test thread; the ORM calls are still sync.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "mat-khau-123"


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Notifications are sent by calling the sweep in tests, never through a broker by accident.
    settings.CHIBO_NOTIFICATIONS_KICK = False


def make_login(member, username):
    user = UserFactory(username=username, first_name=member.full_name)
    member.user = user
    member.save(update_fields=["user"])
    return user


@pytest.fixture
def cast(db):
    province = UnitFactory(kind=PartyUnit.Kind.COMMITTEE, name="Đảng bộ tỉnh Vĩnh Phúc", short_name="Tỉnh ủy")
    ward = UnitFactory(
        kind=PartyUnit.Kind.COMMITTEE, name="Đảng bộ phường Tam Đảo", short_name="Đảng ủy phường", parent=province
    )
    cell_a = UnitFactory(kind=PartyUnit.Kind.CELL, name="Chi bộ Khu phố 1", parent=ward, document_symbol="CB")
    cell_b = UnitFactory(kind=PartyUnit.Kind.CELL, name="Chi bộ Khu phố 2", parent=ward, document_symbol="CB")
    group_a = UnitFactory(kind=PartyUnit.Kind.GROUP, name="Tổ đảng số 1", parent=cell_a)

    secretary = MemberFactory(full_name="Trần Thị Hằng", gender="female", cell=cell_a)
    member = MemberFactory(full_name="Lê Văn Đức", cell=cell_a, group=group_a)
    outsider = MemberFactory(full_name="Phạm Quốc Bảo", cell=cell_b)
    ward_member = MemberFactory(full_name="Đặng Minh Tuấn", cell=cell_b)

    PositionFactory(unit=cell_a, role=Position.Role.SECRETARY, member=secretary, start=datetime.date(2020, 1, 1))
    PositionFactory(unit=ward, role=Position.Role.COMMITTEE_MEMBER, member=ward_member, start=datetime.date(2020, 1, 1))
    staff_user = UserFactory(username="staff", first_name="Cán bộ Ban Tổ chức")
    PositionFactory(unit=ward, role=Position.Role.STAFF, user=staff_user, start=datetime.date(2020, 1, 1))

    return SimpleNamespace(
        province=province,
        ward=ward,
        cell_a=cell_a,
        cell_b=cell_b,
        group_a=group_a,
        secretary=secretary,
        member=member,
        outsider=outsider,
        ward_member=ward_member,
        secretary_user=make_login(secretary, "secretary"),
        member_user=make_login(member, "member"),
        outsider_user=make_login(outsider, "outsider"),
        ward_user=make_login(ward_member, "ward"),
        staff_user=staff_user,
    )


@pytest.fixture
def count_queries():
    """count_queries(callable) -> (number of queries, result)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def _count(fn):
        with CaptureQueriesContext(connection) as ctx:
            result = fn()
        return len(ctx.captured_queries), result

    return _count


@pytest.fixture
def client_for(client):
    """client_for(user) -> a test client signed in as that user."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


REDIS_URL = os.environ.get("CHIBO_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def require_redis(url: str = REDIS_URL) -> None:
    """Skip (with the reason) when no Redis answers; in CI, where one must run, fail instead."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"needs Redis at {url} ({type(exc).__name__}); CI starts one")
