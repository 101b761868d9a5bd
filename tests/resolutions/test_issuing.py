"""Issuing (issue 5 §5, DOMAIN.md "Documents"): only a passed draft; numbers per unit, kind and term,
from 01, gapless and unique even when two people issue at once (PostgreSQL); an issued resolution is
immutable in every write path (services, views, admin); an amendment references and may replace it."""

import datetime
import threading

import pytest
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from cells.models import Term
from members.models import User
from resolutions.models import Draft, NumberSequence, Resolution
from resolutions.services import drafts, issuing, voting
from tests.resolutions.conftest import BODY, soon


def make_passed(cast, kind="NQ", title="Nghị quyết tháng 3"):
    """A draft that passed a meeting vote, set up directly (the vote itself is tested elsewhere)."""
    draft = drafts.draft_create(unit=cast.cell_a, kind=kind, title=title, body=BODY, by=cast.secretary_user)
    Draft.objects.filter(pk=draft.pk).update(
        status=Draft.Status.PASSED,
        passed_by=Draft.PassedBy.MEETING,
        votes_for=2,
        votes_against=0,
        votes_other=0,
        voting_base=2,
        decided_at=timezone.now(),
    )
    return Draft.objects.get(pk=draft.pk)


@pytest.mark.django_db
def test_only_a_passed_draft_is_issued(cast, term, open_draft):
    with pytest.raises(ValidationError):
        issuing.resolution_issue(draft=open_draft, by=cast.secretary_user)
    assert not Resolution.objects.exists()


@pytest.mark.django_db
def test_numbers_run_per_unit_kind_and_term_from_01(cast, term):
    first = issuing.resolution_issue(draft=make_passed(cast), by=cast.secretary_user)
    second = issuing.resolution_issue(draft=make_passed(cast), by=cast.secretary_user)
    conclusion = issuing.resolution_issue(draft=make_passed(cast, kind="KL"), by=cast.secretary_user)
    assert [first.number_label, second.number_label, conclusion.number_label] == [
        "Số 01-NQ/CB",
        "Số 02-NQ/CB",
        "Số 01-KL/CB",
    ]
    term.end = timezone.localdate() - datetime.timedelta(days=1)
    term.save()
    Term.objects.create(unit=cast.cell_a, name="2030–2035", start=timezone.localdate())
    assert issuing.resolution_issue(draft=make_passed(cast), by=cast.secretary_user).number == 1


@pytest.mark.django_db
def test_a_failure_while_issuing_gives_the_number_back(cast, term, monkeypatch):
    import resolutions.pdf

    def broken(resolution):
        raise RuntimeError("printer on fire")

    monkeypatch.setattr(resolutions.pdf, "render_resolution_pdf", broken)
    draft = make_passed(cast)
    with pytest.raises(RuntimeError):
        issuing.resolution_issue(draft=draft, by=cast.secretary_user)
    monkeypatch.undo()
    assert issuing.resolution_issue(draft=draft, by=cast.secretary_user).number == 1  # no gap


@pytest.mark.django_db
def test_issuing_needs_a_term_and_a_signer(cast):
    with pytest.raises(ValidationError):
        issuing.resolution_issue(draft=make_passed(cast), by=cast.secretary_user)


@pytest.mark.django_db
def test_issued_resolution_is_frozen_and_the_draft_refuses_every_service(cast, term, passed_draft):
    resolution = issuing.resolution_issue(draft=passed_draft, by=cast.secretary_user)
    assert resolution.body == passed_draft.current_version.body and resolution.signer_name == "Trần Thị Hằng"
    draft = Draft.objects.get(pk=passed_draft.pk)
    assert draft.status == Draft.Status.ISSUED
    attempts = [
        lambda: issuing.resolution_issue(draft=draft, by=cast.secretary_user),
        lambda: drafts.draft_update(draft=draft, title="Đổi tên", by=cast.secretary_user),
        lambda: drafts.version_add(draft=draft, body="## Mới\nx\n", by=cast.secretary_user),
        lambda: drafts.comments_open(draft=draft, deadline=soon(), by=cast.secretary_user),
        lambda: drafts.comments_close(draft=draft, by=cast.secretary_user),
        lambda: drafts.comment_add(draft=draft, member=cast.member, text_="Muộn", by=cast.member_user),
        lambda: voting.vote_cast(draft=draft, member=cast.member, choice="against", by=cast.member_user),
        lambda: voting.voting_close(draft=draft, by=cast.secretary_user),
        lambda: voting.voting_start(draft=draft, vote_deadline=soon(), by=cast.secretary_user),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError):
            attempt()
    assert Resolution.objects.get().pdf_sha256 == resolution.pdf_sha256
    assert Resolution.history.count() == 1


@pytest.mark.django_db
def test_issued_draft_refuses_writes_through_the_pages(cast, client_for, term, passed_draft):
    issuing.resolution_issue(draft=passed_draft, by=cast.secretary_user)
    client = client_for(cast.secretary_user)
    before = Draft.objects.get(pk=passed_draft.pk).current_version_id
    for name, data in (
        ("resolutions:draft_edit", {"kind": "NQ", "title": "Khác", "comment_visibility": "all"}),
        ("resolutions:version_new", {"title": "Khác", "body": "## A\nb\n"}),
        ("resolutions:comments_open", {"date": "2030-01-01", "time": "17:00", "visibility": "all"}),
        ("resolutions:issue", {"issued_on": timezone.localdate().isoformat(), "recipients": "- Lưu."}),
    ):
        response = client.post(reverse(name, args=[passed_draft.uid]), data)
        assert response.status_code == 302, name
    draft = Draft.objects.get(pk=passed_draft.pk)
    assert draft.current_version_id == before and draft.status == Draft.Status.ISSUED and draft.title != "Khác"
    assert Resolution.objects.count() == 1
    # and no page changes an issued resolution at all: its only URLs read it
    from tests.test_url_scope import object_urls

    names = {name for name, kwargs in object_urls() if name.startswith("resolutions:resolution")}
    assert {"resolutions:resolution", "resolutions:resolution_pdf"} <= names
    assert not [name for name in names if any(word in name for word in ("edit", "delete", "update", "change"))]


@pytest.fixture
def superuser(db):
    return User.objects.create(username="root", is_staff=True, is_superuser=True, password=make_password("x"))


@pytest.mark.django_db
def test_issued_resolution_is_read_only_in_the_admin(cast, client, superuser, term, passed_draft):
    resolution = issuing.resolution_issue(draft=passed_draft, by=cast.secretary_user)
    client.force_login(superuser)
    change = reverse("admin:resolutions_resolution_change", args=[resolution.pk])
    page = client.get(change)
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert client.post(change, {"title": "Sửa"}).status_code == 403
    assert (
        client.post(reverse("admin:resolutions_resolution_delete", args=[resolution.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert client.get(reverse("admin:resolutions_resolution_add")).status_code == 403
    history_id = resolution.history.get().history_id
    revert = reverse("admin:resolutions_resolution_simple_history", args=[resolution.pk, history_id])
    assert client.post(revert, {"title": "Sửa"}).status_code in (302, 403)
    draft_change = reverse("admin:resolutions_draft_change", args=[passed_draft.pk])
    assert client.post(draft_change, {"title": "Sửa"}).status_code == 403
    resolution.refresh_from_db()
    assert resolution.title == "Nghị quyết sinh hoạt chi bộ tháng 3 năm 2026"


@pytest.mark.django_db
def test_an_amendment_references_and_may_replace_the_old_resolution(cast, client_for, term):
    old = issuing.resolution_issue(draft=make_passed(cast), by=cast.secretary_user)
    new = issuing.resolution_issue(
        draft=make_passed(cast, title="Sửa đổi"), amends=old, supersedes=True, by=cast.secretary_user
    )
    assert new.amends == old and new.supersedes and new.number == 2
    old.refresh_from_db()
    assert old.history.count() == 1  # the old one was not touched
    page = client_for(cast.member_user).get(reverse("resolutions:resolution", args=[old.uid])).content.decode()
    assert new.number_label in page
    with pytest.raises(ValidationError):
        issuing.resolution_issue(draft=make_passed(cast), supersedes=True, by=cast.secretary_user)


@pytest.mark.django_db
def test_issue_page_and_resolution_page(cast, client_for, term, passed_draft, django_assert_max_num_queries):
    client = client_for(cast.secretary_user)
    url = reverse("resolutions:issue", args=[passed_draft.uid])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {"issued_on": timezone.localdate().isoformat(), "recipients": "- Đảng ủy phường (để báo cáo),\n- Lưu chi bộ."},
    )
    resolution = Resolution.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "resolutions:resolution", args=[resolution.uid]
    )
    member = client_for(cast.member_user)
    with django_assert_max_num_queries(12):
        page = member.get(reverse("resolutions:resolution", args=[resolution.uid]))
    assert "Số 01-NQ/CB" in page.content.decode()
    pdf = member.get(reverse("resolutions:resolution_pdf", args=[resolution.uid]))
    assert b"".join(pdf.streaming_content) == resolution.pdf.open("rb").read()


# --- Concurrency (PostgreSQL) ----------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("sequence_exists", [False, True])
def test_two_people_issuing_at_once_get_two_consecutive_numbers(cast, term, monkeypatch, sequence_exists):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (DATABASE_URL=postgres://…); SQLite serialises writers")
    if sequence_exists:
        issuing.resolution_issue(draft=make_passed(cast), by=cast.secretary_user)
    first, second = make_passed(cast), make_passed(cast)
    barrier = threading.Barrier(2, timeout=20)
    original = issuing.next_number

    def next_number_together(*args, **kwargs):
        barrier.wait()  # both transactions hold their draft and reach the sequence at the same moment
        return original(*args, **kwargs)

    monkeypatch.setattr(issuing, "next_number", next_number_together)
    results, errors = [], []

    def issue(draft):
        from django.db import connection as thread_connection

        try:
            results.append(issuing.resolution_issue(draft=draft, by=cast.secretary_user).number)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=issue, args=(d,)) for d in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    offset = 1 if sequence_exists else 0
    assert sorted(results) == [1 + offset, 2 + offset]
    assert NumberSequence.objects.get(unit=cast.cell_a, kind="NQ", term=term).last_number == 2 + offset
    assert sorted(Resolution.objects.values_list("number", flat=True)) == list(range(1, 3 + offset))
