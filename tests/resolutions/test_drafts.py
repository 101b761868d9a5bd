"""Drafts and versions (issue 5 §1): sections keep their keys across versions, old versions stay,
the diff between any two versions, who sees a draft when, and the audit history."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from resolutions.models import Draft, DraftVersion
from resolutions.services import drafts
from tests.resolutions.conftest import BODY, soon


@pytest.mark.django_db
def test_a_new_version_keeps_section_keys_and_the_old_text(cast, make_draft):
    draft = make_draft(body=BODY.replace(" {#danh-gia}", ""))
    v1 = draft.current_version
    keys = list(v1.sections.values_list("key", flat=True))
    assert keys == ["mo-dau", "i-danh-gia-tinh-hinh-thang-3", "nhiem-vu"]
    body = v1.body.replace("I. Đánh giá tình hình tháng 3", "I. Kiểm điểm tháng 3").replace("khu phố.", "khu phố 1.")
    v2 = drafts.version_add(draft=draft, body=body, change_note="Tiếp thu ý kiến", by=cast.secretary_user)
    assert v2.number == 2 and list(v2.sections.values_list("key", flat=True)) == keys
    assert v2.sections.get(key="i-danh-gia-tinh-hinh-thang-3").heading == "I. Kiểm điểm tháng 3"
    assert DraftVersion.objects.get(pk=v1.pk).body == v1.body
    with pytest.raises(ValidationError):
        drafts.version_add(draft=draft, body=body, by=cast.secretary_user)


@pytest.mark.django_db
def test_a_written_consultation_has_no_meeting_and_the_text_freezes_at_the_vote(cast, written):
    with pytest.raises(ValidationError):
        drafts.version_add(draft=written, body="## A\nB\n", by=cast.secretary_user)
    with pytest.raises(ValidationError):
        drafts.draft_update(draft=written, title="Khác", by=cast.secretary_user)


@pytest.mark.django_db
def test_members_see_a_draft_only_once_it_is_sent(cast, client_for, make_draft):
    draft = make_draft()
    url = reverse("resolutions:draft", args=[draft.uid])
    assert client_for(cast.member_user).get(url).status_code == 404
    assert client_for(cast.ward_user).get(url).status_code == 200  # the committee above reads everything
    assert client_for(cast.secretary_user).get(url).status_code == 200
    drafts.comments_open(draft=draft, deadline=soon(), by=cast.secretary_user)
    assert client_for(cast.member_user).get(url).status_code == 200


@pytest.mark.django_db
def test_the_committee_drafts_and_publishes_a_version_through_the_pages(cast, client_for):
    client = client_for(cast.secretary_user)
    response = client.post(
        reverse("resolutions:draft_create", args=[cast.cell_a.uid]),
        {"kind": "NQ", "title": "Nghị quyết tháng 4", "summary": "", "comment_visibility": "all", "body": ""},
    )
    assert response.status_code == 200 and not Draft.objects.exists()  # the text is required; the title is kept
    assert "Nghị quyết tháng 4" in response.content.decode()
    response = client.post(
        reverse("resolutions:draft_create", args=[cast.cell_a.uid]),
        {"kind": "NQ", "title": "Nghị quyết tháng 4", "comment_visibility": "all", "body": BODY},
    )
    draft = Draft.objects.get()
    assert response.status_code == 302
    new_body = draft.current_version.body + "\n## III. Tổ chức thực hiện\nChi ủy chỉ đạo.\n"
    response = client.post(
        reverse("resolutions:version_new", args=[draft.uid]),
        {"title": draft.title, "summary": "", "body": new_body, "change_note": "Thêm mục III"},
    )
    assert response.status_code == 302 and "?a=1&b=2" in response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert "III. Tổ chức thực hiện" in page and 'data-state="added"' in page
    assert (
        client_for(cast.member_user).post(reverse("resolutions:draft_create", args=[cast.cell_a.uid])).status_code
        == 403
    )


@pytest.mark.django_db
def test_diff_between_any_two_versions(cast, client_for, make_draft, django_assert_max_num_queries):
    draft = make_draft()
    body = draft.current_version.body
    for i in range(3):
        body = (
            body.replace("khu phố.", f"khu phố (lần {i}).") if i == 0 else body.replace(f"(lần {i - 1})", f"(lần {i})")
        )
        drafts.version_add(draft=draft, body=body, by=cast.secretary_user)
    client = client_for(cast.secretary_user)
    url = reverse("resolutions:diff", args=[draft.uid])
    client.get(url)
    with django_assert_max_num_queries(12):
        page = client.get(url + "?a=1&b=4").content.decode()
    assert "lần 2" in page and 'data-state="changed"' in page
    assert client.get(url + "?a=x&b=99").status_code == 200  # bad numbers fall back to the last two


@pytest.mark.django_db
def test_unit_draft_list_runs_a_constant_number_of_queries(cast, client_for, make_draft, django_assert_max_num_queries):
    for i in range(25):
        drafts.comments_open(draft=make_draft(title=f"Dự thảo {i}"), deadline=soon(), by=cast.secretary_user)
    client = client_for(cast.member_user)
    url = reverse("resolutions:unit_drafts", args=[cast.cell_a.uid])
    client.get(url)
    with django_assert_max_num_queries(15):
        page = client.get(url)
    assert page.content.decode().count('data-testid="draft-row"') == 20  # one page
    assert client.get(url + "?page=2").content.decode().count('data-testid="draft-row"') == 5


@pytest.mark.django_db
def test_drafts_comments_responses_votes_and_issues_are_in_the_audit_history(cast, term, written):
    from resolutions.models import ConsultationVote, Resolution, Response
    from resolutions.services import issuing, voting

    comment = written.comments.create(version=written.current_version, author=cast.member, text="Ý kiến")
    drafts.response_save(comment=comment, decision="accepted", explanation="", by=cast.secretary_user)
    voting.vote_cast(draft=written, member=cast.member, choice="for", by=cast.member_user)
    voting.vote_cast(draft=written, member=cast.secretary, choice="for", by=cast.secretary_user)
    issuing.resolution_issue(draft=voting.voting_close(draft=written, by=cast.secretary_user), by=cast.secretary_user)
    statuses = list(Draft.history.filter(id=written.pk).order_by("history_date").values_list("status", flat=True))
    assert statuses[0] == "draft" and "open" in statuses and "voting" in statuses and statuses[-1] == "issued"
    assert Response.history.count() == 1 and ConsultationVote.history.count() == 2
    assert Resolution.history.get().history_type == "+"


@pytest.mark.django_db
def test_the_history_page_lists_the_draft_its_comments_and_responses(cast, client_for, open_draft):
    comment = drafts.comment_add(draft=open_draft, member=cast.member, text_="Ý kiến", by=cast.member_user)
    drafts.response_save(comment=comment, decision="accepted", explanation="", by=cast.secretary_user)
    url = reverse("resolutions:draft_history", args=[open_draft.uid])
    assert client_for(cast.member_user).get(url).status_code == 403
    page = client_for(cast.secretary_user).get(url)
    assert page.status_code == 200
    assert page.content.decode().count('data-testid="history-entry"') >= 4  # draft ×2, version, comment, response
    assert "Lê Văn Đức" in page.content.decode()
