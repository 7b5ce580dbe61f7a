"""A learner's trace as an Excel workbook (openpyxl) and as a PDF (reportlab, Chinese set in the
same embedded TrueType CJK font as the class evidence pack, `pdf_font`, so any reader shows it).
Times are Beijing time. Both carry
the latest audit checkpoint's stamp (the PDF also as a QR code and in its subject)."""
from __future__ import annotations

from io import BytesIO
from xml.sax.saxutils import escape

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from app.services.cells import safe_row
from app.services.document_stamps import current_stamp, qr_drawing
from app.clock import local_stamp
from app.services.resident_id import mask_resident_id
from app.services.trace import LearnerTrace
from app.web.pdf_fonts import pdf_font


def local_time(at) -> str:
    return local_stamp(at)


def details_text(details: dict) -> str:
    return "; ".join(f"{label}: {value}" for label, value in details.items())


def _headline(trace: LearnerTrace) -> str:
    return _("Learner trace: %(name)s (%(id)s)", name=trace.trainee.name,
             id=mask_resident_id(trace.trainee.id_number))


def _integrity_lines(trace: LearnerTrace) -> list[tuple[str, str, str]]:
    problems = [(p.table, p.row_id, p.words) for p in trace.chain + trace.records]
    return problems or [("", "", _("Intact: this learner's %(n)s audit entries verify and their records agree "
                                   "with the LRS.", n=trace.audit_entries))]


def trace_xlsx(trace: LearnerTrace) -> bytes:
    """Three sheets: the timeline, verified hours per day, and the integrity result."""
    book = Workbook()
    sheet = book.active
    sheet.title = _("Timeline")
    sheet.append(safe_row([_headline(trace)]))
    sheet["A1"].font = Font(bold=True)
    sheet.append(safe_row([_("Time (Beijing)"), _("Kind"), _("Event"), _("Details")]))
    for event in trace.events:
        sheet.append(safe_row([local_time(event.at), event.kind, event.title, details_text(event.details)]))
    for column, width in zip("ABCD", (20, 16, 40, 120)):
        sheet.column_dimensions[column].width = width
    for cell in sheet["D"]:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    hours = book.create_sheet(_("Hours per day"))
    hours.append(safe_row([_("Day"), _("Minutes"), _("Hours")]))
    for day, minutes in trace.hours_per_day:
        hours.append(safe_row([day.isoformat(), minutes, round(minutes / 60, 2)]))
    integrity = book.create_sheet(_("Integrity"))
    integrity.append(safe_row([_("Table"), _("Row"), _("Problem")]))
    for line in _integrity_lines(trace):
        integrity.append(safe_row(line))
    integrity.append(safe_row([_("Audit checkpoint"), "", current_stamp()]))
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _pdf_styles() -> tuple[ParagraphStyle, ParagraphStyle, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=pdf_font(), fontSize=8, leading=10, wordWrap="CJK")
    head = ParagraphStyle("head", parent=body, fontSize=14, leading=18, spaceAfter=4)
    sub = ParagraphStyle("sub", parent=body, fontSize=11, leading=14, spaceBefore=8, spaceAfter=4)
    return body, head, sub


def _table(rows: list[list[str]], widths, body: ParagraphStyle) -> Table:
    table = Table([[Paragraph(escape(str(cell)), body) for cell in row] for row in rows],
                  colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f5")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def trace_pdf(trace: LearnerTrace) -> bytes:
    """A landscape A4 document: headline, integrity result, hours per day and the timeline."""
    body, head, sub = _pdf_styles()
    stamp = current_stamp()
    out = BytesIO()
    doc = SimpleDocTemplate(out, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm,
                            topMargin=12 * mm, bottomMargin=12 * mm, title=_headline(trace),
                            author="SkillTrace", subject=stamp)
    timeline = [[_("Time (Beijing)"), _("Event"), _("Details")]] + [
        [local_time(e.at), e.title, details_text(e.details)] for e in trace.events]
    hours = [[_("Day"), _("Minutes"), _("Hours")]] + [
        [day.isoformat(), str(m), f"{m / 60:.2f}"] for day, m in trace.hours_per_day]
    story = [Paragraph(escape(_headline(trace)), head),
             Paragraph(escape(_("Integrity")), sub),
             _table([[_("Table"), _("Row"), _("Problem")]] + [list(x) for x in _integrity_lines(trace)],
                    [35 * mm, 60 * mm, 175 * mm], body),
             Paragraph(escape(_("Verified hours per day")), sub),
             _table(hours, [40 * mm, 30 * mm, 30 * mm], body),
             Spacer(1, 4 * mm), Paragraph(escape(_("Timeline")), sub),
             _table(timeline, [32 * mm, 70 * mm, 168 * mm], body),
             Spacer(1, 4 * mm), Paragraph(escape(f"{_('Audit checkpoint')}: {stamp}"), body),
             qr_drawing(stamp, 30 * mm)]
    doc.build(story)
    return out.getvalue()
