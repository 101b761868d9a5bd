"""Comments (issue 5 §2): members of the cell only, on the draft or a section, stored with the version
and section; edited or withdrawn until the deadline; refused after it with a clear message; the
per-draft visibility; each member's "drafts awaiting my comment"; the committee's responses."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from members.models import StatusPeriod
from resolutions.models import Comment, Draft, Response
from resolutions.services import drafts
from tests.factories import MemberFactory
from tests.resolutions.conftest import soon


def add(draft, member, user, text_="Đề nghị bổ sung chỉ tiêu kết nạp đảng viên.", section_key=""):
    return drafts.comment_add(draft=draft, member=member, text_=text_, section_key=section_key, by=user)


@pytest.mark.django_db
def test_a_member_comments_on_a_section_and_the_comment_keeps_version_and_section(cast, open_draft):
    comment = add(open_draft, cast.member, cast.member_user, section_key="nhiem-vu")
    assert comment.version == open_draft.current_version and comment.version.number == 1
    assert comment.section_key == "nhiem-vu"
    drafts.version_add(draft=open_draft, body=open_draft.current_version.body + "\nThêm.\n", by=cast.secretary_user)
    comment.refresh_from_db()
    assert comment.version.number == 1  # still the version it was written on


@pytest.mark.django_db
def test_a_comment_on_a_section_that_does_not_exist_is_refused(cast, open_draft):
    with pytest.raises(ValidationError) as exc:
        add(open_draft, cast.member, cast.member_user, section_key="khong-co")
    assert "section_key" in exc.value.error_dict


@pytest.mark.django_db
def test_members_of_another_cell_and_suspended_members_cannot_comment(cast, open_draft):
    with pytest.raises(ValidationError):
        add(open_draft, cast.outsider, cast.outsider_user)
    StatusPeriod.objects.create(
        member=cast.member, kind=StatusPeriod.Kind.SUSPENDED, start=datetime.date(2025, 1, 1), reason="Kỷ luật"
    )
    with pytest.raises(ValidationError):
        add(open_draft, cast.member, cast.member_user)


@pytest.mark.django_db
def test_a_probationary_member_may_comment(cast, open_draft):
    probationary = MemberFactory(cell=cast.cell_a, full_member_on=None, admitted_on=datetime.date(2026, 1, 5))
    assert add(open_draft, probationary, None).author == probationary


@pytest.mark.django_db
def test_no_comment_before_the_draft_is_sent(cast, make_draft):
    with pytest.raises(ValidationError):
        add(make_draft(), cast.member, cast.member_user)


@pytest.mark.django_db
def test_own_comment_is_edited_and_withdrawn_until_the_deadline_and_refused_after(cast, open_draft):
    comment = add(open_draft, cast.member, cast.member_user)
    drafts.comment_edit(comment=comment, member=cast.member, text_="Sửa lại ý kiến.", by=cast.member_user)
    with pytest.raises(ValidationError):
        drafts.comment_edit(comment=comment, member=cast.secretary, text_="Không phải của tôi", by=cast.secretary_user)
    with time_machine.travel(open_draft.comment_deadline + datetime.timedelta(minutes=1)):
        with translation.override("vi"), pytest.raises(ValidationError) as exc:
            drafts.comment_edit(comment=comment, member=cast.member, text_="Quá hạn", by=cast.member_user)
        assert "Hạn góp ý đã kết thúc" in " ".join(exc.value.messages)
        with pytest.raises(ValidationError):
            drafts.comment_withdraw(comment=comment, member=cast.member, by=cast.member_user)
        with pytest.raises(ValidationError):
            add(open_draft, cast.secretary, cast.secretary_user)
    comment.refresh_from_db()
    assert comment.text == "Sửa lại ý kiến." and not comment.withdrawn
    drafts.comment_withdraw(comment=comment, member=cast.member, by=cast.member_user)
    comment.refresh_from_db()
    assert comment.withdrawn
    assert [h.text for h in comment.history.order_by("history_date")] == [
        "Đề nghị bổ sung chỉ tiêu kết nạp đảng viên.",
        "Sửa lại ý kiến.",
        "Sửa lại ý kiến.",
    ]


@pytest.mark.django_db
def test_drafts_awaiting_my_comment(cast, open_draft, make_draft):
    assert list(drafts.awaiting_comment(cast.member)) == [open_draft]
    assert list(drafts.awaiting_comment(cast.outsider)) == []
    make_draft(title="Chưa gửi")  # still being drafted: not listed
    add(open_draft, cast.member, cast.member_user)
    assert list(drafts.awaiting_comment(cast.member)) == []
    assert list(drafts.awaiting_comment(cast.secretary)) == [open_draft]
    with time_machine.travel(open_draft.comment_deadline + datetime.timedelta(seconds=1)):
        assert list(drafts.awaiting_comment(cast.secretary)) == []


@pytest.mark.django_db
def test_responses_need_an_explanation_unless_accepted_and_keep_history(cast, open_draft):
    comment = add(open_draft, cast.member, cast.member_user)
    with pytest.raises(ValidationError) as exc:
        drafts.response_save(comment=comment, decision="not_accepted", explanation=" ", by=cast.secretary_user)
    assert "explanation" in exc.value.error_dict
    drafts.response_save(comment=comment, decision="accepted", explanation="", by=cast.secretary_user)
    response = drafts.response_save(
        comment=comment, decision="partly", explanation="Tiếp thu phần chỉ tiêu.", by=cast.secretary_user
    )
    assert Response.objects.get().decision == "partly"
    assert response.history.count() == 2


# --- Views -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_member_comments_on_a_section_through_the_page(cast, client_for, open_draft):
    client = client_for(cast.member_user)
    page = client.get(reverse("resolutions:draft", args=[open_draft.uid]) + "?section=nhiem-vu")
    assert page.status_code == 200 and b'value="nhiem-vu" selected' in page.content
    response = client.post(
        reverse("resolutions:comment_add", args=[open_draft.uid]),
        {"section_key": "nhiem-vu", "text": "Bổ sung mốc thời gian."},
    )
    comment = Comment.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"#c-{comment.uid}")
    assert comment.section_key == "nhiem-vu" and comment.author == cast.member


@pytest.mark.django_db
def test_a_late_comment_is_refused_with_a_clear_message_and_the_text_is_kept(cast, client_for, open_draft):
    client = client_for(cast.member_user)
    with time_machine.travel(open_draft.comment_deadline + datetime.timedelta(minutes=5)):
        response = client.post(
            reverse("resolutions:comment_add", args=[open_draft.uid]),
            {"section_key": "", "text": "Ý kiến gửi muộn"},
            HTTP_ACCEPT_LANGUAGE="vi",
        )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Hạn góp ý đã kết thúc" in body and "Ý kiến gửi muộn" in body
    assert not Comment.objects.exists()


@pytest.mark.django_db
def test_someone_elses_comment_cannot_be_edited_or_withdrawn(cast, client_for, open_draft):
    comment = add(open_draft, cast.member, cast.member_user)
    client = client_for(cast.secretary_user)
    assert client.post(reverse("resolutions:comment_edit", args=[comment.uid]), {"text": "x"}).status_code == 403
    assert client.post(reverse("resolutions:comment_withdraw", args=[comment.uid])).status_code == 403


@pytest.mark.django_db
def test_committee_only_visibility_hides_others_comments_from_members(cast, client_for, make_draft):
    draft = make_draft()
    drafts.comments_open(draft=draft, deadline=soon(), visibility=Draft.Visibility.COMMITTEE, by=cast.secretary_user)
    other = MemberFactory(full_name="Hoàng Thị Mai", cell=cast.cell_a)
    secret = add(draft, other, None, text_="Ý kiến riêng của đồng chí Mai")
    mine = add(draft, cast.member, cast.member_user, text_="Ý kiến của tôi")
    member_page = client_for(cast.member_user).get(reverse("resolutions:draft", args=[draft.uid])).content.decode()
    assert "Ý kiến của tôi" in member_page and "Ý kiến riêng của đồng chí Mai" not in member_page
    assert client_for(cast.member_user).get(reverse("resolutions:comment_edit", args=[secret.uid])).status_code == 404
    secretary_page = client_for(cast.secretary_user).get(reverse("resolutions:draft", args=[draft.uid]))
    assert "Ý kiến riêng của đồng chí Mai" in secretary_page.content.decode()
    ward_page = client_for(cast.ward_user).get(reverse("resolutions:draft", args=[draft.uid]))
    assert "Ý kiến riêng của đồng chí Mai" in ward_page.content.decode()
    assert mine.pk


@pytest.mark.django_db
def test_the_committee_answers_from_the_consolidation_page(cast, client_for, open_draft):
    comment = add(open_draft, cast.member, cast.member_user)
    client = client_for(cast.secretary_user)
    url = reverse("resolutions:response", args=[comment.uid])
    prefix = str(comment.uid)
    refused = client.post(url, {f"{prefix}-decision": "not_accepted", f"{prefix}-explanation": ""})
    assert refused.status_code == 400 and not Response.objects.exists()
    saved = client.post(url, {f"{prefix}-decision": "partly", f"{prefix}-explanation": "Tiếp thu một phần."})
    assert saved.status_code == 302
    page = client.get(reverse("resolutions:consolidation", args=[open_draft.uid]))
    assert page.status_code == 200 and "Tiếp thu một phần." in page.content.decode()
    member = client_for(cast.member_user)
    assert member.get(reverse("resolutions:consolidation", args=[open_draft.uid])).status_code == 403


@pytest.mark.django_db
def test_draft_page_runs_a_constant_number_of_queries_with_many_comments(
    cast, client_for, open_draft, django_assert_max_num_queries
):
    members = [MemberFactory(cell=cast.cell_a) for _ in range(30)]
    for i, member in enumerate(members):
        comment = add(open_draft, member, None, text_=f"Ý kiến {i}", section_key=("danh-gia", "nhiem-vu", "")[i % 3])
        if i % 2:
            drafts.response_save(comment=comment, decision="accepted", explanation="", by=cast.secretary_user)
    client = client_for(cast.secretary_user)
    url = reverse("resolutions:draft", args=[open_draft.uid])
    client.get(url)
    with django_assert_max_num_queries(25):
        page = client.get(url)
    assert page.content.decode().count('data-testid="comment"') == 30
    with django_assert_max_num_queries(25):
        assert client.get(reverse("resolutions:consolidation", args=[open_draft.uid])).status_code == 200
    member = client_for(cast.member_user)
    with django_assert_max_num_queries(20):
        assert member.get(reverse("resolutions:home")).status_code == 200


@pytest.mark.django_db
def test_after_the_deadline_the_page_says_so_and_offers_no_form(cast, client_for, open_draft):
    with time_machine.travel(timezone.now() + datetime.timedelta(days=2)):
        page = client_for(cast.member_user).get(reverse("resolutions:draft", args=[open_draft.uid]))
    assert 'id="comment-form"' not in page.content.decode()
    assert 'data-testid="deadline"' in page.content.decode()


@pytest.mark.django_db
def test_the_home_page_shows_drafts_awaiting_my_comment(cast, client_for, open_draft):
    page = client_for(cast.member_user).get(reverse("members:home")).content.decode()
    assert 'data-testid="awaiting-comment-panel"' in page and open_draft.title in page
    add(open_draft, cast.member, cast.member_user)
    page = client_for(cast.member_user).get(reverse("members:home")).content.decode()
    assert 'data-testid="awaiting-comment-panel"' not in page
