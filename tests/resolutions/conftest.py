"""Shared fixtures for the resolutions tests: a term for cell A, drafts at each stage."""

import datetime
from types import SimpleNamespace

import pytest
from django.utils import timezone

from cells.models import Term
from resolutions.services import drafts, issuing, voting

BODY = """Căn cứ Điều lệ Đảng Cộng sản Việt Nam;

## I. Đánh giá tình hình tháng 3 {#danh-gia}
Chi bộ đã hoàn thành tốt nhiệm vụ chính trị; 100% đảng viên đóng đảng phí đúng hạn.

## II. Nhiệm vụ và giải pháp tháng 4 {#nhiem-vu}
1. Tổ chức ra quân vệ sinh môi trường khu phố.
2. Vận động nhân dân tham gia bảo vệ an ninh trật tự.
"""


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def term(cast):
    return Term.objects.create(unit=cast.cell_a, name="2025–2030", start=datetime.date(2025, 1, 1))


@pytest.fixture
def make_draft(cast):
    def _make(**kwargs):
        values = {
            "unit": cast.cell_a,
            "title": "Nghị quyết sinh hoạt chi bộ tháng 3 năm 2026",
            "summary": "Về nhiệm vụ tháng 4 năm 2026",
            "body": BODY,
            "by": cast.secretary_user,
        }
        values.update(kwargs)
        return drafts.draft_create(**values)

    return _make


def soon(hours: float = 24) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(hours=hours)


@pytest.fixture
def open_draft(cast, make_draft):
    draft = make_draft()
    return drafts.comments_open(draft=draft, deadline=soon(), by=cast.secretary_user)


@pytest.fixture
def written(cast, make_draft):
    """A written consultation with comments closed (deadline passed) and voting open."""
    draft = make_draft(is_written_consultation=True)
    draft = drafts.comments_open(draft=draft, deadline=soon(), by=cast.secretary_user)
    draft = drafts.comments_close(draft=draft, by=cast.secretary_user)
    return voting.voting_start(draft=draft, vote_deadline=soon(48), by=cast.secretary_user)


@pytest.fixture
def passed_draft(cast, written):
    voting.vote_cast(draft=written, member=cast.secretary, choice="for", by=cast.secretary_user)
    voting.vote_cast(draft=written, member=cast.member, choice="for", by=cast.member_user)
    return voting.voting_close(draft=written, by=cast.secretary_user)


@pytest.fixture
def issue(cast, term):
    def _issue(draft, **kwargs):
        return issuing.resolution_issue(draft=draft, by=cast.secretary_user, **kwargs)

    return _issue


def as_ns(**kwargs):
    return SimpleNamespace(**kwargs)
