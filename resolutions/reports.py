"""Reads shared by the pages and the PDFs: a draft's sections with their comments and responses
(the consolidation report, báo cáo tổng hợp ý kiến) and the written consultation's record, each in a
constant number of queries however many comments there are."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Q

from members.models import Member

from .models import Comment, ConsultationVote, Draft, DraftVersion, Response, VersionSection


@dataclass
class SectionComments:
    key: str
    heading: str
    body: str = ""
    comments: list = field(default_factory=list)


@dataclass
class Consolidation:
    draft: Draft
    sections: list[SectionComments]
    comments: list
    authors: int
    decisions: Counter

    @property
    def pending(self) -> int:
        return sum(1 for c in self.comments if not getattr(c, "response_row", None))


def comments_of(draft: Draft, *, include_withdrawn: bool = False, author: Member | None = None, where: Q | None = None):
    rows = Comment.objects.filter(where or Q(), draft=draft).select_related(
        "author", "version", "response__responded_by"
    )
    if not include_withdrawn:
        rows = rows.filter(withdrawn=False)
    if author is not None:
        rows = rows.filter(author=author)
    result = list(rows.order_by("created_at", "pk"))
    for comment in result:
        try:
            comment.response_row = comment.response
        except Response.DoesNotExist:
            comment.response_row = None
    return result


def sections_of(version: DraftVersion) -> list[VersionSection]:
    return list(version.sections.order_by("order"))


def group_by_section(sections: list[VersionSection], comments: list) -> tuple[list[SectionComments], list]:
    """(sections with their comments, comments on the whole draft); a comment on a section that a later
    version dropped stays with the heading it was written on."""
    by_key = {s.key: SectionComments(s.key, s.heading, s.body) for s in sections}
    whole, orphans = [], defaultdict(list)
    for comment in comments:
        if not comment.section_key:
            whole.append(comment)
        elif comment.section_key in by_key:
            by_key[comment.section_key].comments.append(comment)
        else:
            orphans[comment.section_key].append(comment)
    result = list(by_key.values())
    if orphans:
        old = {
            s.key: s.heading
            for s in VersionSection.objects.filter(version__draft_id=comments[0].draft_id, key__in=list(orphans))
        }
        result += [SectionComments(key, old.get(key, key), "", rows) for key, rows in orphans.items()]
    return result, whole


def consolidation(draft: Draft) -> Consolidation:
    comments = comments_of(draft)
    sections, whole = group_by_section(sections_of(draft.current_version), comments)
    decisions = Counter(c.response_row.decision for c in comments if c.response_row)
    return Consolidation(
        draft=draft,
        sections=[SectionComments("", "", "", whole), *[s for s in sections if s.comments]],
        comments=comments,
        authors=len({c.author_id for c in comments}),
        decisions=decisions,
    )


def consultation_votes(draft: Draft) -> list[ConsultationVote]:
    return list(ConsultationVote.objects.filter(draft=draft).select_related("member").order_by("member__search_name"))
