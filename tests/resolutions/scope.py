"""Objects of cell A for tests/test_url_scope.py: one of every kind a resolutions URL names.
Drafts, comments and issued resolutions here; the register and tasks URLs add their entries below."""

import datetime

from django.utils import timezone

from cells.models import Term
from resolutions.services import drafts, issuing, voting


def resolution_objects(cast) -> dict:
    Term.objects.get_or_create(unit=cast.cell_a, name="2025–2030", defaults={"start": datetime.date(2025, 1, 1)})
    draft = drafts.draft_create(
        unit=cast.cell_a,
        title="Nghị quyết tháng 3",
        body="## I. Đánh giá {#danh-gia}\nTốt.\n",
        is_written_consultation=True,
        by=cast.secretary_user,
    )
    draft = drafts.comments_open(
        draft=draft, deadline=timezone.now() + datetime.timedelta(days=1), by=cast.secretary_user
    )
    comment = drafts.comment_add(draft=draft, member=cast.member, text_="Góp ý", by=cast.member_user)
    draft = drafts.comments_close(draft=draft, by=cast.secretary_user)
    draft = voting.voting_start(
        draft=draft, vote_deadline=timezone.now() + datetime.timedelta(days=2), by=cast.secretary_user
    )
    for member, user in ((cast.secretary, cast.secretary_user), (cast.member, cast.member_user)):
        voting.vote_cast(draft=draft, member=member, choice="for", by=user)
    draft = voting.voting_close(draft=draft, by=cast.secretary_user)
    resolution = issuing.resolution_issue(draft=draft, by=cast.secretary_user)
    d, c, u, r = {"uid": draft.uid}, {"uid": comment.uid}, {"unit_uid": cast.cell_a.uid}, {"uid": resolution.uid}
    return {
        "resolutions:unit_drafts": u,
        "resolutions:draft_create": u,
        "resolutions:draft": d,
        "resolutions:draft_edit": d,
        "resolutions:version_new": d,
        "resolutions:version": {"uid": draft.uid, "number": 1},
        "resolutions:diff": d,
        "resolutions:comments_open": d,
        "resolutions:comments_close": d,
        "resolutions:comment_add": d,
        "resolutions:consolidation": d,
        "resolutions:consolidation_pdf": d,
        "resolutions:voting_start": d,
        "resolutions:vote": d,
        "resolutions:voting_close": d,
        "resolutions:meeting_vote": d,
        "resolutions:draft_history": d,
        "resolutions:issue": d,
        "resolutions:comment_edit": c,
        "resolutions:comment_withdraw": c,
        "resolutions:response": c,
        "resolutions:resolution": r,
        "resolutions:resolution_pdf": r,
        "resolutions:consultation_pdf": r,
    }
