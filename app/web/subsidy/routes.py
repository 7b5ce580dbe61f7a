"""`/subsidy/`: the newest claim of each class (admin, reviewer, auditor).
`/subsidy/classes/<uuid>`: a class's claim (GET for admin, reviewer, auditor and the class's
instructors; POST `…/prepare` for admins and the class's instructors). `/subsidy/claims/<uuid>.xlsx|.csv`: the exports.
`/subsidy/lines/<uuid>`: one line walked back to its ledger entries, intervals, verifications
and statement ids. Auditors only read.
"""
from __future__ import annotations

import uuid

from flask import Response, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.errors.exceptions import NotFoundError
from app.extensions import db
from app.models import Role, SubsidyClaim, TrainingClass
from app.queries import subsidy as queries
from app.services import policy, subsidy, subsidy_export
from app.services.classes import get_class_or_404
from app.web.access import role_required
from app.web.forms import act_then_redirect
from app.web.subsidy import bp

READERS = (Role.ADMIN, Role.REVIEWER, Role.AUDITOR, Role.INSTRUCTOR)


@bp.app_context_processor
def _subsidy_words():
    return {"subsidy_reason": subsidy.reason_message}


def _readable(klass: TrainingClass) -> TrainingClass:
    """The class, if the signed-in account may read its claim.

    :raise 403: an instructor who is not on the class (or of another institution).
    """
    policy.require(policy.can_read_claim(current_user, klass), _("Only the class's own instructors see its claim."))
    return klass


def _chart(claim: SubsidyClaim | None) -> dict | None:
    """Widths of the eligible / not eligible bar (SVG user units)."""
    if claim is None or not claim.lines:
        return None
    width, total = 400, len(claim.lines)
    eligible = round(width * claim.eligible_count / total, 1)
    return {"width": width, "eligible_w": eligible, "other_w": round(width - eligible, 1),
            "eligible": claim.eligible_count, "other": total - claim.eligible_count}


@bp.route("/")
@role_required(Role.ADMIN, Role.REVIEWER, Role.AUDITOR)
def index():
    """The newest claim version of each class (instructors reach theirs from the class page)."""
    return render_template("subsidy/index.html", claims=queries.list_latest_claims(db.session))


@bp.route("/classes/<uuid:class_id>")
@role_required(*READERS)
def class_claim(class_id: uuid.UUID):
    """The class's newest claim: totals, a bar of eligible lines, each line with its reasons."""
    klass = _readable(get_class_or_404(db.session, class_id))
    claim = queries.get_latest_claim(db.session, klass.id)
    return render_template("subsidy/claim.html", klass=klass, claim=claim, chart=_chart(claim),
                           versions=queries.list_claim_versions(db.session, klass.id))


@bp.route("/classes/<uuid:class_id>/prepare", methods=["POST"])
@role_required(Role.ADMIN, Role.INSTRUCTOR)
def prepare(class_id: uuid.UUID):
    """Prepare the claim again; the same version when nothing changed.

    :raise 403: not an admin or the class's own instructor. :raise 404: no such class."""
    get_class_or_404(db.session, class_id, current_user, policy.can_prepare_claim)
    return act_then_redirect(lambda: subsidy.prepare_claim(current_user, class_id),
                             lambda claim: _("Claim version %(v)s is ready.", v=claim.version),
                             url_for("subsidy.class_claim", class_id=class_id))


def _claim_or_404(claim_id: uuid.UUID) -> SubsidyClaim:
    claim = db.session.get(SubsidyClaim, claim_id)
    if claim is None:
        raise NotFoundError(_("No such claim."))
    _readable(claim.training_class)
    return claim


def _download(data: bytes, mimetype: str, claim: SubsidyClaim, ext: str) -> Response:
    name = f"subsidy-{claim.training_class.code}-v{claim.version}.{ext}"
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/claims/<uuid:claim_id>.xlsx")
@role_required(*READERS)
def export_xlsx(claim_id: uuid.UUID):
    """The claim as Excel (byte-identical when downloaded again)."""
    claim = _claim_or_404(claim_id)
    return _download(subsidy_export.export_xlsx(claim),
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", claim, "xlsx")


@bp.route("/claims/<uuid:claim_id>.csv")
@role_required(*READERS)
def export_csv(claim_id: uuid.UUID):
    """The claim as CSV, UTF-8 with a BOM."""
    claim = _claim_or_404(claim_id)
    return _download(subsidy_export.export_csv(claim), "text/csv; charset=utf-8", claim, "csv")


@bp.route("/lines/<uuid:line_id>")
@role_required(*READERS)
def show_line(line_id: uuid.UUID):
    """One line: its rule and amount, then each ledger entry → interval → verifications →
    statement ids."""
    line = queries.get_line(db.session, line_id)
    if line is None:
        raise NotFoundError(_("No such claim line."))
    _readable(line.claim.training_class)
    return render_template("subsidy/line.html", line=line, claim=line.claim, klass=line.claim.training_class,
                           steps=queries.list_trace_steps(db.session, line.ledger_entry_ids))
