"""Signed statements: check the JWS in a signature attachment (RS256/384/512; verified with
the x5c certificate when one is given) and that its payload is the statement it signs."""

from __future__ import annotations

import base64

import jwt
from cryptography import x509

from lrs.exceptions import BadRequestError
from lrs.inputs import load_json
from lrs.records import is_same_statement

_ALGORITHMS = ("RS256", "RS384", "RS512")


def _strip(statement: dict) -> dict:
    return {k: v for k, v in statement.items() if k not in ("attachments", "authority",
                                                             "stored", "version")}


def check_signature(statement: dict, token: bytes) -> None:
    """Raise 400 unless `token` is a JWS over `statement` with an RSA-SHA2 algorithm."""
    try:
        text = token.decode("ascii").strip()
        header = jwt.get_unverified_header(text)
    except (UnicodeDecodeError, jwt.PyJWTError) as exc:
        raise BadRequestError("signature attachment is not a JWS", field="attachments") from exc
    algorithm = header.get("alg")
    if algorithm not in _ALGORITHMS:
        raise BadRequestError("signature must use RS256, RS384 or RS512",
                              field="attachments")
    try:
        if header.get("x5c"):
            cert = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
            payload = jwt.api_jws.decode(text, cert.public_key(), algorithms=[algorithm])
        else:
            payload = jwt.api_jws.decode(text, options={"verify_signature": False})
        signed = load_json(payload, "signature payload", field="attachments")
    except (jwt.PyJWTError, ValueError, TypeError, KeyError, IndexError) as exc:
        raise BadRequestError(f"signature does not verify: {exc}", field="attachments") from exc
    if not isinstance(signed, dict):
        raise BadRequestError("signature payload is not a statement", field="attachments")
    left, right = _strip(signed), _strip(statement)
    if "id" not in left:
        right.pop("id", None)
    if not is_same_statement(left, right):
        raise BadRequestError("signature payload differs from the statement",
                              field="attachments")
