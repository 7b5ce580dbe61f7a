"""`/me/data`: what SkillTrace holds about the signed-in trainee (identity with the ID and account
masked, consent, face template, classes, certificates, how many checks and ledger entries), with
the withdrawal of consent (the existing `/me/biometrics/withdraw`); `/me/data.json`: the same as
a download (PIPL art. 45, the right to a copy)."""
from __future__ import annotations

import json

from flask import Response, render_template
from flask_login import current_user

from app.extensions import db
from app.models import Role, Trainee
from app.services import enrolment, pipl
from app.web.access import role_required
from app.web.biometrics import bp
from app.web.biometrics.forms import WithdrawForm


def _my_data() -> dict:
    """What is held about the signed-in trainee.

    :raise 404: the account is not linked to a trainee record."""
    trainee = db.session.get(Trainee, enrolment.own_trainee_id(current_user))
    return pipl.my_data(db.session, trainee)


@bp.get("/me/data")
@role_required(Role.TRAINEE)
def my_data():
    """The trainee's data in words, the download link and the withdrawal of consent."""
    return render_template("biometrics/my_data.html", data=_my_data(), withdraw_form=WithdrawForm())


@bp.get("/me/data.json")
@role_required(Role.TRAINEE)
def my_data_json():
    """The same data as JSON (Chinese kept as written), as an attachment, never cached."""
    body = json.dumps(_my_data(), ensure_ascii=False, indent=2, sort_keys=True)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": 'attachment; filename="my-data.json"', "Cache-Control": "no-store"})
