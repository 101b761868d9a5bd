"""Issuing a passed draft, the issued resolution's page and its archived PDFs (the same bytes every time)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from members.views.common import apply_service

from .. import text
from ..access import can_manage, get_draft_for_user, get_resolution_for_user
from ..forms.drafts import IssueForm
from ..models import Draft
from ..services import issuing

READ_METHODS = ("GET", "HEAD")


@login_required
def issue(request, uid):
    draft = get_draft_for_user(request.user, uid, write=True)
    if draft.status == Draft.Status.ISSUED:
        messages.info(request, _("This draft has already been issued."))
        return redirect("resolutions:resolution", draft.resolution.uid)
    if draft.status != Draft.Status.PASSED:
        messages.error(request, _("Only a draft that has passed the vote can be issued."))
        return redirect("resolutions:draft", draft.uid)
    initial = {"issued_on": timezone.localdate(), "recipients": issuing.default_recipients(draft.unit)}
    form = IssueForm(request.POST or None, draft=draft, initial=initial)
    term = draft.unit.current_term(timezone.localdate())
    if request.method == "POST" and form.is_valid():
        resolution = apply_service(
            form, lambda: issuing.resolution_issue(draft=draft, by=request.user, **form.cleaned_data)
        )
        if resolution:
            messages.success(
                request, _("Issued as %(label)s. The PDF is archived.") % {"label": resolution.number_label}
            )
            return redirect("resolutions:resolution", resolution.uid)
    return render(request, "resolutions/drafts/issue.html", {"draft": draft, "form": form, "term": term})


@login_required
def resolution_detail(request, uid):
    resolution = get_resolution_for_user(request.user, uid)
    if request.method not in READ_METHODS:
        return HttpResponseNotAllowed(READ_METHODS)
    sections = [
        {"key": s.key, "heading": s.heading, "html": text.render_markdown(s.body)}
        for s in text.parse_sections(resolution.body)
    ]
    amendments = list(resolution.amendments.order_by("issued_on", "number"))
    return render(
        request,
        "resolutions/drafts/resolution_detail.html",
        {
            "resolution": resolution,
            "sections": sections,
            "amendments": amendments,
            "superseded_by": next((a for a in amendments if a.supersedes), None),
            "can_manage": can_manage(request.user, resolution.draft),
        },
    )


def _archived(file, filename: str):
    if not file:
        raise Http404
    response = FileResponse(file.open("rb"), content_type="application/pdf", filename=filename)
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@login_required
def resolution_pdf(request, uid):
    resolution = get_resolution_for_user(request.user, uid)
    if request.method not in READ_METHODS:
        return HttpResponseNotAllowed(READ_METHODS)
    if not resolution.pdf:
        resolution = issuing.archive_missing_pdfs(resolution)
    response = _archived(resolution.pdf, f"nghi-quyet-{resolution.number}-{resolution.kind.lower()}.pdf")
    response["ETag"] = f'"{resolution.pdf_sha256}"'
    return response


@login_required
def consultation_pdf(request, uid):
    resolution = get_resolution_for_user(request.user, uid)
    if request.method not in READ_METHODS:
        return HttpResponseNotAllowed(READ_METHODS)
    if not resolution.consultation_pdf and resolution.draft.is_written_consultation:
        resolution = issuing.archive_missing_pdfs(resolution)
    response = _archived(resolution.consultation_pdf, f"bien-ban-xin-y-kien-{resolution.number}.pdf")
    response["ETag"] = f'"{resolution.consultation_sha256}"'
    return response
