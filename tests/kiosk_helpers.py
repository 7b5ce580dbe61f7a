"""A kiosk for tests: provisioned with its one-time code, holding its device key in Python (the
browser holds it non-extractable in WebCrypto), and signing every request as the kiosk page does."""
from __future__ import annotations

import base64
import json as jsonlib
import secrets
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from werkzeug.test import EnvironBuilder

from app.services import kiosks


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_b64(private_key) -> str:
    der = private_key.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def sign_headers(key: str, private_key, method: str, path: str, body: bytes, at: int | None = None,
                 nonce: str | None = None) -> dict:
    """The signature headers of one request, as the kiosk page makes them."""
    timestamp = str(int(time.time()) if at is None else at)
    nonce = nonce or secrets.token_urlsafe(18)
    der = private_key.sign(kiosks.signed_message(method, path, timestamp, nonce, body), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return {"X-Kiosk-Key": key, "X-Kiosk-Time": timestamp, "X-Kiosk-Nonce": nonce,
            "X-Kiosk-Signature": base64.b64encode(raw).decode()}


def encode_body(path: str, json=None, data=None, content_type: str | None = None) -> tuple[bytes, str]:
    """The exact bytes and content type a request with ``json`` or form ``data`` sends."""
    if json is not None:
        return jsonlib.dumps(json).encode(), "application/json"
    if data is None:
        return b"", content_type
    builder = EnvironBuilder(path=path, method="POST", data=data or {}, content_type=content_type)
    environ = builder.get_environ()
    return environ["wsgi.input"].read(), environ.get("CONTENT_TYPE", "")


class SignedKiosk:
    """Wraps a test client: ``post`` signs with the kiosk's device key (``signed=False`` sends the
    request unsigned; ``private_key`` signs with another key)."""

    def __init__(self, client, kiosk, private_key):
        self.client, self.kiosk, self.key, self.private_key = client, kiosk, kiosk.key, private_key

    def post(self, path, json=None, data=None, content_type=None, headers=None, signed=True, private_key=None,
             **kwargs):
        body, ctype = encode_body(path, json, data, content_type)
        extra = sign_headers(self.key, private_key or self.private_key, "POST", path, body) if signed else {}
        return self.client.post(path, data=body, content_type=ctype, headers={**extra, **(headers or {})}, **kwargs)


def provision(actor, institution_id, site: str, name: str = "一号机", allowed_ranges: str = "",
              address: str = "127.0.0.1"):
    """Create a kiosk and bind a fresh device key with its code; (kiosk, private key)."""
    kiosk, code = kiosks.create_kiosk(actor, name, institution_id, site, allowed_ranges)
    private_key = new_key()
    bound = kiosks.bind_device(code, public_b64(private_key), address)
    assert bound is not None
    return bound, private_key


def signed_kiosk(client, actor, institution_id, site: str, **kwargs) -> SignedKiosk:
    kiosk, private_key = provision(actor, institution_id, site, **kwargs)
    return SignedKiosk(client, kiosk, private_key)
