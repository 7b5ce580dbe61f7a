"""Check-in kiosks: a terminal bound to one site (a session ``place``) of one institution, never a
person's account. Provisioned and revoked by the institution's staff (the ``/kiosks`` page or
``flask --app wsgi kiosks create|list|revoke``).

Binding: creating a kiosk gives a one-time enrolment code (shown once; only its HMAC under the
app's secret key is stored; it expires after ``KIOSK_CODE_HOURS`` and works once). The kiosk page
generates an ECDSA P-256 key pair in the browser (WebCrypto, not extractable), sends the public
key with the code, and from then on signs every request: the signature covers
``METHOD\\nPATH\\nTIME\\nNONCE\\nSHA-256(body) in hex`` (headers ``X-Kiosk-Key``, ``X-Kiosk-Time``
in Unix seconds, ``X-Kiosk-Nonce``, ``X-Kiosk-Signature``: base64 of the 64-byte r‖s signature).
A time further than ``KIOSK_SIGNATURE_MAX_AGE_SECONDS`` from the server's clock is refused; the
API refuses a nonce seen before. Optional allowed address ranges (CIDR) per kiosk are matched
against ``request.remote_addr`` (behind a proxy, that is the address the proxy fix sets). Key
rotation is re-provisioning: revoke, then create the kiosk again.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
import secrets
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import load_der_public_key
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.errors.exceptions import NotFoundError, PermissionDeniedError, ValidationError
from app.extensions import db
from app.models import Institution, Kiosk, User
from app.models.base import utcnow
from app.services._tx import transaction
from app.services.audit import append_audit
from app.services.policy import can_manage_kiosk

#: Enrolment code characters: no look-alikes (0/O/D/Q, 1/I/L, 2/Z, 5/S, 6/G, 8/B, U/V).
CODE_ALPHABET = "ACEFHJKMNPRTWXY3479"
CODE_LENGTH = 10
NONCE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")

#: Why a kiosk request was refused, in words.
REFUSALS = {
    "unsigned": _l("This request is not signed by an enrolled kiosk. Enrol the kiosk with its one-time code."),
    "bad_signature": _l("The kiosk's signature is wrong. Enrol the kiosk again with a new code."),
    "stale_signature": _l("The kiosk's request is too old or its clock is wrong. Check the kiosk's date and time."),
    "replayed_signature": _l("This kiosk request was already received once."),
    "address_not_allowed": _l("This kiosk may not be used from this network address."),
    "bad_code": _l("The enrolment code is wrong, expired or already used. Ask the institution's staff for a new one."),
}


def refusal_message(reason: str) -> str:
    return str(REFUSALS[reason])


def _code_digest(code: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"kiosk-enrolment-code:" + code.encode(), hashlib.sha256).hexdigest()


def normalise_code(code: str) -> str:
    """The code as typed, upper-cased, without spaces or hyphens."""
    return re.sub(r"[\s-]", "", (code or "")).upper()[:32]


def _new_code() -> str:
    code = "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))
    return code[:5] + "-" + code[5:]


def parse_ranges(text: str) -> str:
    """Allowed address ranges as typed (CIDR or single addresses, separated by commas, spaces or
    new lines), normalised to a comma-separated string; empty for any address.

    Raises:
        ValidationError: a range that is not an address or CIDR network.
    """
    ranges = []
    for item in re.split(r"[\s,，]+", text or ""):
        if not item:
            continue
        try:
            ranges.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ValidationError(_("%(range)s is not an address range such as 192.168.1.0/24.", range=item[:60]),
                                  errors={"allowed_ranges": _("Not an address range.")}) from None
    return ",".join(ranges)


def address_allowed(kiosk: Kiosk, address: str | None) -> bool:
    """Whether ``address`` is in the kiosk's allowed ranges (any address when it has none)."""
    if not kiosk.allowed_ranges:
        return True
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(r) for r in kiosk.allowed_ranges.split(","))


def create_kiosk(actor: User, name: str, institution_id, site: str, allowed_ranges: str = "",
                 screen_facing: bool = True) -> tuple[Kiosk, str]:
    """Register a kiosk at ``site``; returns it and its one-time enrolment code (shown only now).
    ``screen_facing``: its screen faces the trainee, so its checks include the screen-colour step.

    Raises:
        PermissionDeniedError: not an admin or the institution's staff.
        ValidationError: no name or site, or a malformed address range.
    """
    if not can_manage_kiosk(actor, institution_id):
        raise PermissionDeniedError(_("Only the institution's own staff register its kiosks."))
    if institution_id is None or db.session.get(Institution, institution_id) is None:
        raise ValidationError(_("Choose the kiosk's institution."), errors={"institution_id": _("Required.")})
    name, site = (name or "").strip(), (site or "").strip()
    if not name or not site:
        raise ValidationError(_("Give the kiosk a name and a site."),
                              errors={k: _("Required.") for k, v in (("name", name), ("site", site)) if not v})
    ranges = parse_ranges(allowed_ranges)
    code = _new_code()
    expires = utcnow() + timedelta(hours=current_app.config["KIOSK_CODE_HOURS"])
    with transaction() as session:
        kiosk = Kiosk(name=name, institution_id=institution_id, site=site, key="k-" + secrets.token_hex(8),
                      screen_facing=screen_facing, allowed_ranges=ranges,
                      code_digest=_code_digest(normalise_code(code)), code_expires_at=expires)
        session.add(kiosk)
        session.flush()
        append_audit(session, actor, "kiosk.created", kiosk, {
            "name": name, "site": site, "institution_id": str(institution_id), "allowed_ranges": ranges,
            "screen_facing": screen_facing, "code_expires_at": expires.isoformat()})
    return kiosk, code


def _public_key(der: bytes) -> ec.EllipticCurvePublicKey | None:
    try:
        key = load_der_public_key(der)
    except (ValueError, TypeError):
        return None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        return None
    return key


def bind_device(code: str, public_key_b64: str, address: str | None, now: datetime | None = None) -> Kiosk | None:
    """Bind the device key (base64 DER SubjectPublicKeyInfo of a P-256 key) to the kiosk whose
    unused, unexpired enrolment code this is; the code stops working. None (nothing changed) for
    a wrong, used or expired code or an address outside the kiosk's ranges.

    Raises:
        ValidationError: the public key is not a P-256 key.
    """
    now = now or utcnow()
    try:
        der = base64.b64decode(public_key_b64 or "", validate=True)
    except ValueError:
        der = b""
    if _public_key(der) is None:
        raise ValidationError(_("The kiosk's public key is not a P-256 key."), code="bad_public_key")
    with transaction() as session:
        kiosk = session.scalar(select(Kiosk).where(Kiosk.code_digest == _code_digest(normalise_code(code)),
                                                   Kiosk.active.is_(True)).with_for_update())
        if kiosk is None or kiosk.code_expires_at <= now or not address_allowed(kiosk, address):
            return None
        kiosk.public_key, kiosk.bound_at = der, now
        kiosk.code_digest = kiosk.code_expires_at = None
        append_audit(session, None, "kiosk.bound", kiosk, {
            "name": kiosk.name, "site": kiosk.site, "address": address or "",
            "key_sha256": hashlib.sha256(der).hexdigest()})
    return kiosk


def signed_message(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """What a kiosk signs for one request."""
    return "\n".join((method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest())).encode()


def _signature_ok(kiosk: Kiosk, message: bytes, signature_b64: str) -> bool:
    key = _public_key(kiosk.public_key or b"")
    try:
        raw = base64.b64decode(signature_b64 or "", validate=True)
    except ValueError:
        return False
    if key is None or len(raw) != 64:
        return False
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        key.verify(der, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def _fresh(timestamp: str, now: datetime) -> bool:
    if not re.fullmatch(r"\d{1,12}", timestamp or ""):
        return False
    return abs(now.timestamp() - int(timestamp)) <= current_app.config["KIOSK_SIGNATURE_MAX_AGE_SECONDS"]


def verify_request(key: str, method: str, path: str, headers, body: bytes, address: str | None,
                   now: datetime | None = None) -> tuple[Kiosk | None, str]:
    """The active, bound kiosk that signed this request, and ``""``; or None (or the kiosk, for
    an address outside its ranges) and a reason of `REFUSALS`. The nonce's novelty is the
    caller's to check (it keeps the memory of nonces seen)."""
    kiosk = db.session.scalar(select(Kiosk).where(Kiosk.key == (key or "")[:64], Kiosk.active.is_(True)))
    nonce, timestamp = headers.get("X-Kiosk-Nonce", ""), headers.get("X-Kiosk-Time", "")
    if kiosk is None or kiosk.public_key is None or not headers.get("X-Kiosk-Signature"):
        return None, "unsigned"
    if not NONCE_PATTERN.match(nonce):
        return None, "bad_signature"
    message = signed_message(method, path, timestamp, nonce, body)
    if not _signature_ok(kiosk, message, headers.get("X-Kiosk-Signature", "")):
        return None, "bad_signature"
    if not _fresh(timestamp, now or utcnow()):
        return None, "stale_signature"
    if not address_allowed(kiosk, address):
        return kiosk, "address_not_allowed"
    return kiosk, ""


def list_kiosks(actor: User, institution_id=None) -> list[Kiosk]:
    """The kiosks the actor may manage (all for an admin), of one institution when given."""
    query = select(Kiosk).order_by(Kiosk.created_at)
    if institution_id is not None:
        query = query.where(Kiosk.institution_id == institution_id)
    return [k for k in db.session.scalars(query) if can_manage_kiosk(actor, k.institution_id)]


def kiosk_state(kiosk: Kiosk, now: datetime | None = None) -> str:
    """``revoked``, ``bound`` (a device key is set), ``waiting`` (code still valid) or ``expired``."""
    if not kiosk.active:
        return "revoked"
    if kiosk.public_key is not None:
        return "bound"
    return "waiting" if kiosk.code_expires_at and kiosk.code_expires_at > (now or utcnow()) else "expired"


def revoke_kiosk(actor: User, key: str) -> Kiosk:
    """Deactivate a kiosk: its device key and code stop working at once (audited).

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
        kiosk.code_digest = None
        append_audit(session, actor, "kiosk.revoked", kiosk, {"name": kiosk.name, "site": kiosk.site})
    return kiosk


def code_hours() -> int:
    """How many hours an enrolment code stays valid."""
    return current_app.config["KIOSK_CODE_HOURS"]
