"""Drafts, versions, comments, responses and votes (see resolutions/urls.py)."""

from django.urls import path

from .views import comments, drafts

urlpatterns = [
    path("", drafts.home, name="home"),
    path("units/<uuid:unit_uid>/drafts/", drafts.unit_drafts, name="unit_drafts"),
    path("units/<uuid:unit_uid>/drafts/new/", drafts.draft_create, name="draft_create"),
    path("drafts/<uuid:uid>/", drafts.draft_detail, name="draft"),
    path("drafts/<uuid:uid>/edit/", drafts.draft_edit, name="draft_edit"),
    path("drafts/<uuid:uid>/versions/new/", drafts.version_new, name="version_new"),
    path("drafts/<uuid:uid>/versions/<int:number>/", drafts.version_detail, name="version"),
    path("drafts/<uuid:uid>/diff/", drafts.diff, name="diff"),
    path("drafts/<uuid:uid>/open/", drafts.comments_open, name="comments_open"),
    path("drafts/<uuid:uid>/close/", drafts.comments_close, name="comments_close"),
    path("drafts/<uuid:uid>/comments/", comments.comment_add, name="comment_add"),
    path("drafts/<uuid:uid>/consolidation/", drafts.consolidation, name="consolidation"),
    path("drafts/<uuid:uid>/consolidation.pdf", drafts.consolidation_pdf, name="consolidation_pdf"),
    path("drafts/<uuid:uid>/voting/", drafts.voting_start, name="voting_start"),
    path("drafts/<uuid:uid>/vote/", drafts.vote_cast, name="vote"),
    path("drafts/<uuid:uid>/voting/close/", drafts.voting_close, name="voting_close"),
    path("drafts/<uuid:uid>/meeting-vote/", drafts.meeting_vote_link, name="meeting_vote"),
    path("drafts/<uuid:uid>/history/", drafts.draft_history, name="draft_history"),
    path("comments/<uuid:uid>/edit/", comments.comment_edit, name="comment_edit"),
    path("comments/<uuid:uid>/withdraw/", comments.comment_withdraw, name="comment_withdraw"),
    path("comments/<uuid:uid>/response/", comments.response_save, name="response"),
]
