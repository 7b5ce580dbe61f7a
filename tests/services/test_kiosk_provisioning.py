"""Kiosks: provisioned and revoked by the institution's staff (`flask kiosks create|list|revoke`),
wrong credentials throttled, and 1:N identification with a threshold that tightens with the
roster's size."""
import base64

import pytest
from sqlalchemy import func, select

from app.errors.exceptions import PermissionDeniedError
from app.extensions import db
from app.models import AuditEntry, Kiosk, Role
from app.services import kiosks
from app.services.face_checks import roster_threshold
from tests.factories import make_catalogue, make_user


def basic(key, secret):
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()}


def test_kiosks_create_list_and_revoke_from_the_command_line(app, runner):
    admin = make_user(Role.ADMIN, username="admin")
    institution = make_catalogue(admin)[0]
    made = runner.invoke(args=["kiosks", "create", "--institution", institution.code, "--site", "实训楼 201",
                               "--name", "一号机"])
    assert made.exit_code == 0, made.output
    key = made.output.split("key ", 1)[1].split()[0]
    secret = made.output.split("secret ", 1)[1].split()[0]
    assert kiosks.authenticate_kiosk(key, secret) is not None
    listing = runner.invoke(args=["kiosks", "list"])
    assert key in listing.output and "active" in listing.output and "实训楼 201" in listing.output
    revoked = runner.invoke(args=["kiosks", "revoke", key])
    assert revoked.exit_code == 0, revoked.output
    assert kiosks.authenticate_kiosk(key, secret) is None
    assert "revoked" in runner.invoke(args=["kiosks", "list"]).output
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action.in_(("kiosk.created", "kiosk.revoked")))) == 2
    assert runner.invoke(args=["kiosks", "revoke", key]).exit_code != 0  # already revoked


def test_another_institutions_instructor_cannot_provision_or_revoke(app):
    admin = make_user(Role.ADMIN)
    mine, other = make_catalogue(admin)[0], make_catalogue(admin)[0]
    instructor = make_user(Role.INSTRUCTOR)
    instructor.institution_id = mine.id
    db.session.commit()
    with pytest.raises(PermissionDeniedError):
        kiosks.create_kiosk(instructor, "外机", other.id, "外校区")
    kiosk, _secret = kiosks.create_kiosk(admin, "外机", other.id, "外校区")
    with pytest.raises(PermissionDeniedError):
        kiosks.revoke_kiosk(instructor, kiosk.key)
    db.session.rollback()
    assert db.session.get(Kiosk, kiosk.id).active
    assert kiosks.list_kiosks(instructor) == []


def test_wrong_kiosk_secrets_are_throttled(app, client):
    admin = make_user(Role.ADMIN)
    institution = make_catalogue(admin)[0]
    kiosk, secret = kiosks.create_kiosk(admin, "一号机", institution.id, "实训楼 201")
    statuses = [client.post("/api/kiosk/conversation", json={"purpose": "check_in"},
                            headers=basic(kiosk.key, f"guess-{i}")).status_code for i in range(25)]
    assert statuses[:10] == [401] * 10 and set(statuses[10:]) == {429}
    # the right secret from the same address waits too: guessing cannot continue
    assert client.post("/api/kiosk/conversation", json={"purpose": "check_in"},
                       headers=basic(kiosk.key, secret)).status_code == 429


def test_the_identification_threshold_tightens_with_the_roster():
    base = 0.58
    assert roster_threshold(base, 1) == base
    assert roster_threshold(base, 30) < 0.541 < base  # the calibration look-alike of the issue
    assert roster_threshold(base, 1000) < roster_threshold(base, 100) < roster_threshold(base, 10)
