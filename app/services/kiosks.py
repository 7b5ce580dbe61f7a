"""Check-in kiosks: a terminal bound to one site (a session ``place``) of one institution, with
its own key and secret (Argon2id-hashed, shown once), never a person's account. Provisioned and
revoked by the institution's staff (``flask --app wsgi kiosks create|list|revoke``)."""
from __future__ import annotations

import secrets

from flask_babel import gettext as _
from sqlalchemy import select

from app.errors.exceptions import NotFoundError, PermissionDeniedError, ValidationError
from app.extensions import db
from app.models import Kiosk, User
from app.services._tx import transaction
from argon2.exceptions import VerificationError

from app.services.accounts import _hasher, hash_password
from app.services.audit import append_audit
from app.services.policy import can_manage_kiosk


def create_kiosk(actor: User, name: str, institution_id, site: str, screen_facing: bool = True) -> tuple[Kiosk, str]:
    """Register a kiosk at ``site``; returns it and its secret (shown only now). ``screen_facing``:
    its screen faces the trainee, so its checks include the screen-colour step.

    Raises:
        PermissionDeniedError: not an admin or the institution's instructor.
        ValidationError: no name or site.
    """
    if not can_manage_kiosk(actor, institution_id):
        raise PermissionDeniedError(_("Only the institution's own staff register its kiosks."))
    name, site = (name or "").strip(), (site or "").strip()
    if not name or not site:
        raise ValidationError(_("Give the kiosk a name and a site."))
    secret = secrets.token_urlsafe(24)
    with transaction() as session:
        kiosk = Kiosk(name=name, institution_id=institution_id, site=site, screen_facing=screen_facing,
                      key="k-" + secrets.token_hex(8), secret_hash=hash_password(secret))
        session.add(kiosk)
        session.flush()
        append_audit(session, actor, "kiosk.created", kiosk, {"name": name, "site": site,
                                                              "institution_id": str(institution_id),
                                                              "screen_facing": screen_facing})
    return kiosk, secret


def authenticate_kiosk(key: str, secret: str) -> Kiosk | None:
    """The active kiosk with this key and secret, or None."""
    kiosk = db.session.scalar(select(Kiosk).where(Kiosk.key == (key or "")[:64], Kiosk.active.is_(True)))
    if kiosk is None:
        return None
    try:
        _hasher().verify(kiosk.secret_hash, secret or "")
    except VerificationError:
        return None
    return kiosk


def list_kiosks(actor: User, institution_id=None) -> list[Kiosk]:
    """The kiosks the actor may manage (all for an admin), of one institution when given."""
    query = select(Kiosk).order_by(Kiosk.created_at)
    if institution_id is not None:
        query = query.where(Kiosk.institution_id == institution_id)
    return [k for k in db.session.scalars(query) if can_manage_kiosk(actor, k.institution_id)]


def revoke_kiosk(actor: User, key: str) -> Kiosk:
    """Deactivate a kiosk: its credentials stop working at once (audited).

    Raises:
        NotFoundError: no such active kiosk. PermissionDeniedError: another institution's kiosk.
    """
    with transaction() as session:
        kiosk = session.scalar(select(Kiosk).where(Kiosk.key == (key or "")[:64], Kiosk.active.is_(True)))
        if kiosk is None:
            raise NotFoundError(_("No such active kiosk."), code="no_kiosk")
        if not can_manage_kiosk(actor, kiosk.institution_id):
            raise PermissionDeniedError(_("Only the institution's own staff register its kiosks."))
        kiosk.active = False
        append_audit(session, actor, "kiosk.revoked", kiosk, {"name": kiosk.name, "site": kiosk.site})
    return kiosk
