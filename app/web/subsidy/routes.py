"""`/subsidy/`: the newest claim of each class (admin, reviewer, auditor).
`/subsidy/classes/<uuid>`: a class's claim (GET for admin, reviewer, auditor and the class's
instructors; POST `…/prepare` for admins and the class's instructors). `/subsidy/claims/<uuid>.xlsx|.csv`: the exports.
`/subsidy/lines/<uuid>`: one line walked back to its ledger entries, intervals, verifications
and statement ids. Auditors only read. The workflow: POST `/subsidy/claims/<uuid>/submit`
(institution staff), `…/review` (reviewers, every eligible line at once), `…/paid` (reviewers,
admins, after the notice); `/subsidy/notices`: the public notice (公示) of accepted claims.
"""
from __future__ import annotations

import uuid

from flask import Response, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.errors.exceptions import NotFoundError
from app.extensions import db
from app.models import Role, SubsidyClaim, TrainingClass
from app.queries import subsidy as queries
from app.services import claim_workflow, policy, subsidy, subsidy_export
from app.services.resident_id import mask_resident_id
from app.services.classes import get_class_or_404
from app.web.access import role_required
from app.web.forms import act_then_redirect
from app.web.subsidy import bp

READERS = (Role.ADMIN, Role.REVIEWER, Role.AUDITOR, Role.INSTRUCTOR)


@bp.app_context_processor
def _subsidy_words():
    return {"subsidy_reason": subsidy.reason_message, "rule_words": subsidy.rule_words,
            "claim_status_label": claim_workflow.status_label}


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
                           versions=queries.list_claim_versions(db.session, klass.id),
                           can_prepare=policy.can_prepare_claim(current_user, klass),
                           can_submit=policy.can_act_for(current_user, klass.institution_id),
                           can_review=policy.is_reviewer(current_user),
                           can_pay=current_user.role in claim_workflow.PAYERS)


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
    """The claim as Excel (byte-identical when downloaded again); full ID and payee account
    numbers for the roles that see full IDs, masked for the others."""
    claim = _claim_or_404(claim_id)
    return _download(subsidy_export.export_xlsx(claim, policy.can_see_full_id(current_user)),
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", claim, "xlsx")


@bp.route("/claims/<uuid:claim_id>.csv")
@role_required(*READERS)
def export_csv(claim_id: uuid.UUID):
    """The claim as CSV, UTF-8 with a BOM; numbers full or masked as for Excel."""
    claim = _claim_or_404(claim_id)
    return _download(subsidy_export.export_csv(claim, policy.can_see_full_id(current_user)),
                     "text/csv; charset=utf-8", claim, "csv")


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


def _workflow_step(claim_id: uuid.UUID, step, done: str):
    """Run one workflow step on the claim; back to the class's claim page with the outcome."""
    claim = _claim_or_404(claim_id)
    return act_then_redirect(step, done, url_for("subsidy.class_claim", class_id=claim.class_id))


@bp.route("/claims/<uuid:claim_id>/submit", methods=["POST"])
@role_required(Role.ADMIN, Role.INSTRUCTOR)
def submit(claim_id: uuid.UUID):
    """The institution submits the claim to the bureau."""
    return _workflow_step(claim_id, lambda: claim_workflow.submit_claim(current_user, claim_id),
                          _("The claim is submitted to the bureau."))


@bp.route("/claims/<uuid:claim_id>/review", methods=["POST"])
@role_required(Role.REVIEWER)
def review(claim_id: uuid.UUID):
    """Decide every eligible line: ``decision-<line id>`` (accepted / returned) and
    ``reason-<line id>``."""
    decisions = {key.removeprefix("decision-"): (value, request.form.get("reason-" + key.removeprefix("decision-"), ""))
                 for key, value in request.form.items() if key.startswith("decision-")}
    return _workflow_step(claim_id, lambda: claim_workflow.review_claim(current_user, claim_id, decisions),
                          _("The claim is reviewed."))


@bp.route("/claims/<uuid:claim_id>/paid", methods=["POST"])
@role_required(*claim_workflow.PAYERS)
def paid(claim_id: uuid.UUID):
    """Mark the claim paid (form field ``reference``) once its public notice is over."""
    return _workflow_step(claim_id, lambda: claim_workflow.mark_paid(current_user, claim_id,
                                                                      request.form.get("reference", "")),
                          _("The claim is marked paid."))


def _masked_name(name: str) -> str:
    return name[0] + "*" * (len(name) - 1) if len(name) > 1 else name


@bp.route("/notices")
def notices():
    """The public notice (公示) of accepted claims: institution, class, programme, the notice
    period, and each accepted trainee with the name and ID number masked, and the amount."""
    return render_template("subsidy/notices.html", claims=queries.list_claims_in_notice(db.session),
                           masked_name=_masked_name, mask=mask_resident_id)
