"""`/admin/pipl`: face data under PIPL for administrators — people with a stored template against
the 100,000 filing threshold (warned at 80 %), the templates per face detector with how many need
re-enrolment, the retention and last automatic purge, the consent text versions in use; `/admin/pipl/record.csv|.xlsx`: the processing record (处理活动记录)."""
from __future__ import annotations

import csv
import io

from flask import Response, render_template
from openpyxl import Workbook

from app.extensions import db
from app.models import Role
from app.queries import pipl as queries
from app.queries.audit import EntryFilter, list_entries
from app.services import enrolment, pipl
from app.services.cells import safe_row
from app.web.access import role_required
from app.web.admin import bp


@bp.route("/pipl")
@role_required(Role.ADMIN)
def pipl_overview():
    """The filing count, the retention rule with the last purge, and the consent versions."""
    last_purge = list_entries(db.session, limit=1, where=EntryFilter(action="face.templates_purged"))
    return render_template("admin/pipl.html", filing=pipl.filing_state(db.session),
                           retention_days=pipl.retention_days(), last_purge=last_purge[0] if last_purge else None,
                           versions=queries.list_consent_versions(db.session),
                           detectors=enrolment.templates_by_detector(db.session))


def _attachment(data: bytes, mimetype: str, name: str) -> Response:
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/pipl/record.csv")
@role_required(Role.ADMIN)
def processing_record_csv():
    """The processing record as CSV (UTF-8 with a BOM, formula-safe cells)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(safe_row(pipl.PROCESSING_HEADERS))
    writer.writerows(safe_row(row) for row in pipl.processing_record(db.session))
    return _attachment(("\ufeff" + buffer.getvalue()).encode("utf-8"), "text/csv; charset=utf-8",
                       "processing-record.csv")


@bp.route("/pipl/record.xlsx")
@role_required(Role.ADMIN)
def processing_record_xlsx():
    """The processing record as one Excel sheet."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "个人信息处理活动记录"
    sheet.append(safe_row(pipl.PROCESSING_HEADERS))
    for row in pipl.processing_record(db.session):
        sheet.append(safe_row(row))
    for column in "ABCDEFG":
        sheet.column_dimensions[column].width = 28
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _attachment(buffer.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       "processing-record.xlsx")

