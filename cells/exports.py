"""Dashboard exports: the table as .xlsx (formatted) and .csv (UTF-8 with BOM, so Excel shows the
Vietnamese), and the printable PDF report. Only the unit the user may see and its subtree."""

from __future__ import annotations

import csv
import io

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cells import stats
from cells.models import PartyUnit
from cells.templatetags.dashboard import pct
from cells.text import fold
from cells.views_dashboard import _state, get_dashboard_unit, trend_chart

# Columns: (title, getter, kind) where kind is "text", "int" or "pct".
COLUMNS = (
    (gettext_noop("Unit"), None, "text"),
    (gettext_noop("Cell-months"), "cell_months", "int"),
    (gettext_noop("Months with the regular meeting"), "held_months", "int"),
    (gettext_noop("On schedule"), "on_schedule", "pct"),
    (gettext_noop("Regular meetings held"), "regular_held", "int"),
    (gettext_noop("Expected"), "expected", "int"),
    (gettext_noop("Present"), "present", "int"),
    (gettext_noop("Attendance rate"), "attendance", "pct"),
    (gettext_noop("Unexcused absences"), "unexcused", "int"),
    (gettext_noop("Committee pre-meetings"), "premeeting_rate", "pct"),
    (gettext_noop("Thematic each quarter"), "thematic", "pct"),
    (gettext_noop("Duration met"), "duration", "pct"),
    (gettext_noop("Higher-level delegate"), "higher", "pct"),
)


def table(unit: PartyUnit, period: stats.Period, unit_type: str | None) -> tuple[list[str], list[list]]:
    """Header and rows: one per child unit, then the total (a cell: its own row)."""
    header = [_(title) for title, _g, _k in COLUMNS]
    if unit.kind == PartyUnit.Kind.CELL:
        rows = [(unit.name, stats.figures(unit, period, unit_type))]
    else:
        rows = [(u.name, f) for u, f in stats.by_child(unit, period, unit_type)]
        rows.append((_("Total: %(unit)s") % {"unit": unit.name}, stats.figures(unit, period, unit_type)))
    body = []
    for name, f in rows:
        body.append([name, *(getattr(f, getter) for _t, getter, _k in COLUMNS[1:])])
    return header, body


def _cell_text(value, kind: str) -> str:
    if value is None:
        return "—"
    return pct(value) if kind == "pct" else str(value)


def _filename(unit: PartyUnit, period: stats.Period, ext: str) -> str:
    return f"chuyen-can-{slugify(fold(unit.display_name))}-{slugify(period.label)}.{ext}"


@login_required
def export(request, uid, fmt):
    unit = get_dashboard_unit(request.user, uid)
    if fmt not in ("xlsx", "csv"):
        raise Http404
    _form, period, unit_type, _q = _state(request)
    header, body = table(unit, period, unit_type)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        for row in body:
            writer.writerow(
                [
                    "" if v is None else (f"{v * 100:.1f}%" if k == "pct" else v)
                    for v, (_t, _g, k) in zip(row, COLUMNS, strict=True)
                ]
            )
        response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            _xlsx(unit, period, header, body),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{_filename(unit, period, fmt)}"'
    return response


def _xlsx(unit: PartyUnit, period: stats.Period, header: list[str], body: list[list]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = _("Attendance rate")[:31]
    ws.append(header)
    for row in body:
        ws.append(row)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="F2DCDB")
    for cell in ws[1]:
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for index, (_t, _g, kind) in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = 42 if kind == "text" else 14
        if kind == "pct":
            for cell in ws[letter][1:]:
                cell.number_format = "0.0%"
    if unit.kind != PartyUnit.Kind.CELL:
        for cell in ws[ws.max_row]:
            cell.font = bold
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = ws.dimensions
    wb.properties.title = f"{unit.name} — {period.label}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@login_required
def report_pdf(request, uid):
    from meetings.pdf import header_for, render_document

    unit = get_dashboard_unit(request.user, uid)
    _form, period, unit_type, _q = _state(request)
    today = timezone.localdate()
    headline = stats.figures(unit, period, unit_type)
    header, body = table(unit, period, unit_type)
    entries, _warning, alert = stats.at_risk_list(unit, period.end.year, today)  # read once: count and first 100
    at_risk = stats.risk_members(entries[:100], alert)
    missed = list(stats.missed_months(unit, period, unit_type)[:200])
    context = {
        "document_title": f"Báo cáo sinh hoạt chi bộ — {unit.name}",
        "header": header_for(unit, today),
        "unit": unit,
        "period": period,
        "unit_type_label": dict(PartyUnit.UnitType.choices).get(unit_type, ""),
        "headline": headline,
        "metrics": [(key, label, headline.level(key)) for key, label in stats.METRICS],
        "columns": header,
        "rows": [[_cell_text(v, k) for v, (_t, _g, k) in zip(row, COLUMNS, strict=True)] for row in body],
        "trend": trend_chart(stats.trend(unit, period, 12, unit_type), width=600, height=200),
        "at_risk": at_risk,
        "at_risk_more": max(len(entries) - 100, 0),
        "missed": missed,
        "month_label": stats.month_label,
    }
    pdf = render_document("cells/dashboard/report_pdf.html", context)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{_filename(unit, period, "pdf")}"'
    return response
