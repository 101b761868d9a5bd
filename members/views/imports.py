"""Importing members from a spreadsheet: upload → column mapping → preview → import."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cells.models import PartyUnit
from members import access, imports
from members.access import Action
from members.forms.imports import MappingForm, UploadForm

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell_for_import(request, unit_uid) -> PartyUnit:
    unit = access.get_unit_for_user(request.user, unit_uid)
    if not access.can(request.user, Action.MANAGE_MEMBERS, unit):
        raise PermissionDenied
    if unit.kind != PartyUnit.Kind.CELL:
        raise Http404
    return unit


def _upload(request, cell: PartyUnit, token: str) -> tuple[imports.Upload, imports.Sheet]:
    upload = imports.upload_get(token, cell=cell, user=request.user)
    if upload is None:
        raise Http404
    try:
        return upload, upload.sheet()
    except (OSError, imports.ImportFileError):
        raise Http404


@login_required
def import_upload(request, unit_uid):
    cell = _cell_for_import(request, unit_uid)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        file = form.cleaned_data["file"]
        data = file.read()
        try:
            imports.load(data, file.name)
        except imports.ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            upload = imports.upload_save(
                data=data, filename=file.name, cell=cell, joined_on=form.cleaned_data["joined_on"], by=request.user
            )
            return redirect("members:import_mapping", cell.uid, upload.token)
    return render(request, "members/import_upload.html", {"form": form, "cell": cell, "max_rows": imports.MAX_ROWS})


@login_required
def import_mapping(request, unit_uid, token):
    cell = _cell_for_import(request, unit_uid)
    upload, sheet = _upload(request, cell, token)
    mapping = upload.mapping if upload.mapping is not None else sheet.mapping
    form = MappingForm(
        request.POST or None, sheet=sheet, fields=imports.FIELDS, initial={k: str(v) for k, v in mapping.items()}
    )
    if request.method == "POST" and form.is_valid():
        upload.mapping = {k: v for k, v in form.cleaned_data.items() if v is not None}
        upload.save_meta()
        return redirect("members:import_preview", cell.uid, upload.token)
    return render(
        request,
        "members/import_mapping.html",
        {
            "form": form,
            "cell": cell,
            "upload": upload,
            "sheet": sheet,
            "recognised": len(sheet.mapping),
        },
    )


@login_required
def import_preview(request, unit_uid, token):
    """GET shows every row with its problems; POST imports them all, or nothing."""
    cell = _cell_for_import(request, unit_uid)
    upload, sheet = _upload(request, cell, token)
    if upload.mapping is None or not imports.mapping_is_usable(upload.mapping, sheet.width):
        return redirect("members:import_mapping", cell.uid, upload.token)
    if request.method == "POST":
        if not upload.claim():
            messages.error(request, _("This file is already being imported."))
            return redirect("cells:detail", cell.uid)
        try:
            preview = imports.members_import(
                cell=cell, sheet=sheet, mapping=upload.mapping, joined_on=upload.joined_on, by=request.user
            )
        except imports.ImportRejected as exc:
            upload.release()
            preview = exc.preview
            if preview.message:
                messages.error(request, preview.message)
            elif preview.error_count:
                messages.error(request, _("Nothing was imported: correct the rows marked below."))
        except BaseException:
            upload.release()
            raise
        else:
            upload.delete()
            imported, present = preview.new_count, preview.present_count
            messages.success(
                request,
                ngettext(
                    "%(imported)d member imported, %(present)d already present",
                    "%(imported)d members imported, %(present)d already present",
                    imported,
                )
                % {"imported": imported, "present": present},
            )
            return redirect("cells:detail", cell.uid)
    else:
        preview = imports.build_preview(cell=cell, sheet=sheet, mapping=upload.mapping, joined_on=upload.joined_on)
    only_problems = request.GET.get("show") == "problems"
    rows = [r for r in preview.rows if r.errors or r.notes] if only_problems else preview.rows
    return render(
        request,
        "members/import_preview.html",
        {
            "cell": cell,
            "upload": upload,
            "preview": preview,
            "rows": rows,
            "only_problems": only_problems,
            "error_rows": [r.number for r in preview.rows if r.errors][:30],
        },
        status=200,
    )


@login_required
def import_template(request, unit_uid):
    cell = _cell_for_import(request, unit_uid)
    response = HttpResponse(imports.template_workbook(cell), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="mau-danh-sach-dang-vien.xlsx"'
    return response
