"""`/classes/<uuid>/evidence.pdf` and `.xlsx`: the class evidence pack as one PDF (A4 landscape,
the Chinese font embedded when a TrueType CJK font is installed, the class, generation time and
page number on every page) and as one workbook (a sheet per table)."""
from __future__ import annotations

import re
import uuid
from io import BytesIO
from xml.sax.saxutils import escape

from flask import Response
from flask_babel import gettext as _
from flask_login import current_user
from openpyxl import Workbook
from openpyxl.styles import Font
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Table, TableStyle

from app.services.cells import safe_row
from app.services.document_stamps import current_stamp, qr_drawing
from app.services.evidence_pack import EvidencePack, build_pack
from app.web.access import STAFF, role_required
from app.web.pdf_fonts import pdf_font
from app.web.training import bp

def _table(section, body: ParagraphStyle, width: float) -> Table:
    rows = [section.header] + (section.rows or [["—"] + [""] * (len(section.header) - 1)])
    table = Table([[Paragraph(escape(str(cell)), body) for cell in row] for row in rows],
                  colWidths=[width / len(section.header)] * len(section.header), repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f5")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def evidence_pdf(pack: EvidencePack) -> bytes:
    """Every table of the pack, the 考勤表 each on its own page, with a footer on every page."""
    font = pdf_font()
    body = ParagraphStyle("body", fontName=font, fontSize=8, leading=10, wordWrap="CJK")
    head = ParagraphStyle("head", parent=body, fontSize=14, leading=18, spaceAfter=4)
    sub = ParagraphStyle("sub", parent=body, fontSize=11, leading=14, spaceBefore=8, spaceAfter=4)
    footer = f"{pack.klass.code} {pack.klass.name} · {pack.generated_words}"
    stamp = current_stamp()  # the latest signed checkpoint: `flask audit checkpoint verify-document`

    def decorate(canvas, doc):
        canvas.setFont(font, 8)
        canvas.drawString(12 * mm, 7 * mm, footer)
        canvas.drawRightString(doc.pagesize[0] - 12 * mm, 7 * mm, _("Page %(n)s", n=doc.page))
        canvas.setFont(font, 6)
        canvas.drawString(12 * mm, 3.5 * mm, stamp)

    out = BytesIO()
    doc = SimpleDocTemplate(out, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm,
                            topMargin=12 * mm, bottomMargin=14 * mm, title=pack.heading, author="SkillTrace",
                            subject=stamp)
    story = [Paragraph(escape(pack.heading), head), Paragraph(escape(pack.generated_words), body),
             Paragraph(escape(stamp), body), qr_drawing(stamp, 30 * mm)]
    for i, section in enumerate(pack.sections):
        if i:
            story.append(PageBreak())
        story += [Paragraph(escape(section.title), sub), _table(section, body, doc.width)]
    doc.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return out.getvalue()


def _sheet_title(title: str, used: set) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "-", title)[:28]
    name, n = base, 1
    while name in used:
        n += 1
        name = f"{base[:25]}({n})"
    used.add(name)
    return name


def evidence_xlsx(pack: EvidencePack) -> bytes:
    """The same tables as one workbook: a cover sheet, then one sheet per table."""
    book = Workbook()
    cover = book.active
    cover.title = _sheet_title(_("Cover"), used := set())
    cover.append(safe_row([pack.heading]))
    cover.append(safe_row([pack.generated_words]))
    cover.append(safe_row([_("Audit checkpoint"), current_stamp()]))
    cover["A1"].font = Font(bold=True, size=14)
    for section in pack.sections:
        sheet = book.create_sheet(_sheet_title(section.title, used))
        sheet.append(safe_row([section.title]))
        sheet.append(safe_row(section.header))
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in section.rows:
            sheet.append(safe_row(row))
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _download(data: bytes, mimetype: str, pack: EvidencePack, ext: str) -> Response:
    name = f"evidence-{pack.klass.code}.{ext}"
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"',
                                                      "Cache-Control": "no-store"})


@bp.route("/classes/<uuid:class_id>/evidence.pdf")
@role_required(*STAFF)
def evidence_pack_pdf(class_id: uuid.UUID):
    """The class evidence pack as one PDF (staff of the class's institution, or the bureau)."""
    pack = build_pack(current_user, class_id, "pdf")
    return _download(evidence_pdf(pack), "application/pdf", pack, "pdf")


@bp.route("/classes/<uuid:class_id>/evidence.xlsx")
@role_required(*STAFF)
def evidence_pack_xlsx(class_id: uuid.UUID):
    """The class evidence pack as one Excel workbook."""
    pack = build_pack(current_user, class_id, "xlsx")
    return _download(evidence_xlsx(pack), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     pack, "xlsx")
