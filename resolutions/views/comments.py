"""Comments: a member adds, edits or withdraws their own until the deadline; the committee answers
each one. The server checks the deadline on every write (resolutions.services.drafts)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from members.views.common import apply_service

from .. import reports
from ..access import get_comment_for_user, get_draft_for_user, member_of
from ..forms.drafts import CommentEditForm, CommentForm, ResponseForm
from ..services import drafts as services


def _anchor(comment) -> str:
    return reverse("resolutions:draft", args=[comment.draft.uid]) + f"#c-{comment.uid}"


@login_required
@require_POST
def comment_add(request, uid):
    draft = get_draft_for_user(request.user, uid)
    sections = reports.sections_of(draft.current_version)
    form = CommentForm(request.POST, sections=sections)
    if form.is_valid():
        comment = apply_service(
            form,
            lambda: services.comment_add(
                draft=draft,
                member=member_of(request.user),
                text_=form.cleaned_data["text"],
                section_key=form.cleaned_data["section_key"],
                by=request.user,
            ),
        )
        if comment:
            messages.success(request, _("Your comment was sent. You can change it until the deadline."))
            return redirect(_anchor(comment))
    # Refused (deadline passed, not a member) or invalid: show the form again with the text kept.
    return render(
        request,
        "resolutions/drafts/comment_form.html",
        {"draft": draft, "form": form, "title": _("Your comment")},
        status=400,
    )


def _own(request, uid):
    comment = get_comment_for_user(request.user, uid)
    member = member_of(request.user)
    if member is None or comment.author_id != member.pk:
        raise PermissionDenied
    return comment, member


@login_required
def comment_edit(request, uid):
    comment, member = _own(request, uid)
    form = CommentEditForm(request.POST or None, initial={"text": comment.text})
    if request.method == "POST" and form.is_valid():
        saved = apply_service(
            form,
            lambda: services.comment_edit(
                comment=comment, member=member, text_=form.cleaned_data["text"], by=request.user
            ),
        )
        if saved:
            messages.success(request, _("Your comment was saved."))
            return redirect(_anchor(saved))
    return render(
        request,
        "resolutions/drafts/comment_form.html",
        {"draft": comment.draft, "comment": comment, "form": form, "title": _("Edit your comment")},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def comment_withdraw(request, uid):
    comment, member = _own(request, uid)
    form = CommentEditForm(initial={"text": comment.text})
    if request.method == "POST":
        done = apply_service(form, lambda: services.comment_withdraw(comment=comment, member=member, by=request.user))
        if done:
            messages.success(request, _("Your comment was withdrawn."))
            return redirect("resolutions:draft", comment.draft.uid)
    return render(
        request,
        "resolutions/drafts/comment_withdraw.html",
        {"draft": comment.draft, "comment": comment, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def response_save(request, uid):
    comment = get_comment_for_user(request.user, uid, write=True)
    existing = getattr(comment, "response", None)
    initial = {"decision": existing.decision, "explanation": existing.explanation} if existing else None
    form = ResponseForm(request.POST or None, initial=initial, prefix=str(comment.uid))
    if request.method == "POST" and form.is_valid():
        saved = apply_service(
            form,
            lambda: services.response_save(
                comment=comment,
                decision=form.cleaned_data["decision"],
                explanation=form.cleaned_data["explanation"],
                by=request.user,
            ),
        )
        if saved:
            messages.success(request, _("The response was saved."))
            return redirect(reverse("resolutions:consolidation", args=[comment.draft.uid]) + f"#c-{comment.uid}")
    return render(
        request,
        "resolutions/drafts/response_form.html",
        {"draft": comment.draft, "comment": comment, "form": form},
        status=400 if request.method == "POST" else 200,
    )
