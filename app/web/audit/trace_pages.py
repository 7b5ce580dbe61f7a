"""The auditor's learner trace: `POST /audit/trainees` (field ``q``) finds a trainee by full
resident ID or name — by POST so that full ID numbers never appear in URLs, browser history or
access logs; `/audit/trainees/<id>` shows the whole history with a chart of verified hours per day and
the integrity result; `…/trace.xlsx` and `…/trace.pdf` export it. Every opening is audited."""
from __future__ import annotations

import uuid

from flask import Response, render_template, request
from flask_login import current_user

from app.extensions import db
from app.models import Role
from app.queries.trace import search_trainees
from app.services.resident_id import mask_resident_id
from app.services.trace import open_trace
from app.web.access import role_required
from app.web.audit import bp
from app.web.audit.exports import local_time, trace_pdf, trace_xlsx

AUDITORS = (Role.AUDITOR, Role.ADMIN)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def hours_chart(days: list) -> dict:
    """Bar geometry (SVG user units) of verified hours per day."""
    height, left, width = 160, 36, 640
    step = width / max(len(days), 1)
    top = max([m for _d, m in days] + [60]) / 60
    bars = []
    for i, (day, minutes) in enumerate(days):
        h = round(height * max(minutes, 0) / 60 / top, 1)
        bars.append({"x": round(left + i * step + step * 0.15, 1), "w": round(step * 0.7, 1),
                     "y": round(height - h + 10, 1), "h": h, "hours": f"{minutes / 60:.1f}",
                     "day": day.strftime("%m-%d"), "label": len(days) <= 31 or i % (len(days) // 31 + 1) == 0})
    return {"bars": bars, "left": left, "width": width + left + 10, "base": height + 10,
            "height": height + 40, "top": f"{top:.1f}"}


@bp.route("/trainees", methods=["GET", "POST"])
@role_required(*AUDITORS)
def search():
    """GET: the search form (a ``?q=`` is ignored). POST: find trainees by the full resident ID
    (exact) or part of the name; IDs shown masked."""
    query = request.form.get("q", "").strip() if request.method == "POST" else ""
    results = search_trainees(db.session, query)
    return render_template("audit/search.html", query=query, mask=mask_resident_id,
                           results=results)


@bp.route("/trainees/<uuid:trainee_id>")
@role_required(*AUDITORS)
def trace(trainee_id: uuid.UUID):
    """The learner's whole history, newest last, with hours per day and the integrity result."""
    learner = open_trace(current_user, trainee_id, "view")
    return render_template("audit/trace.html", trace=learner, chart=hours_chart(learner.hours_per_day),
                           local_time=local_time, mask=mask_resident_id)


def _download(body: bytes, mimetype: str, trainee_id: uuid.UUID, extension: str) -> Response:
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="trace-{trainee_id}.{extension}"'})


@bp.route("/trainees/<uuid:trainee_id>/trace.xlsx")
@role_required(*AUDITORS)
def trace_excel(trainee_id: uuid.UUID):
    """The trace as an Excel workbook."""
    return _download(trace_xlsx(open_trace(current_user, trainee_id, "xlsx")), XLSX, trainee_id, "xlsx")


@bp.route("/trainees/<uuid:trainee_id>/trace.pdf")
@role_required(*AUDITORS)
def trace_document(trainee_id: uuid.UUID):
    """The trace as a PDF document."""
    return _download(trace_pdf(open_trace(current_user, trainee_id, "pdf")), "application/pdf", trainee_id, "pdf")
