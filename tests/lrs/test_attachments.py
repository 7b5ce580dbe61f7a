"""Attachments (multipart/mixed, checked against their SHA-2) and signed statements (JWS)."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.lrs.factories import new_id, statement

SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"


def _attachment(data: bytes, usage="http://example.com/usage/certificate",
                content_type="text/plain") -> dict:
    return {"usageType": usage, "display": {"en-US": "file"}, "contentType": content_type,
            "length": len(data), "sha2": hashlib.sha256(data).hexdigest()}


def _multipart(document, parts, boundary="xapi-boundary", encoding=True):
    chunks = [f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(),
              json.dumps(document).encode(), b"\r\n"]
    for sha2, data, content_type in parts:
        head = f"--{boundary}\r\nContent-Type: {content_type}\r\n"
        if encoding:
            head += "Content-Transfer-Encoding: binary\r\n"
        head += f"X-Experience-API-Hash: {sha2}\r\n\r\n"
        chunks += [head.encode(), data, b"\r\n"]
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/mixed; boundary={boundary}"


def _send(client, headers, document, parts, **kwargs):
    body, content_type = _multipart(document, parts, **kwargs)
    return client.post("/xapi/statements", data=body,
                       headers={**headers, "Content-Type": content_type})


def test_attachment_round_trip(client, headers):
    data = "结业证书 certificate".encode()
    meta = _attachment(data)
    body = statement(id=new_id(), attachments=[meta])
    assert _send(client, headers, body, [(meta["sha2"], data, "text/plain")]).status_code == 200
    response = client.get(f"/xapi/statements?statementId={body['id']}&attachments=true",
                          headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "multipart/mixed"
    raw = response.get_data()
    assert data in raw and meta["sha2"].encode() in raw


def test_attachment_with_wrong_hash_is_400(client, headers):
    data = b"content"
    meta = _attachment(data)
    wrong = hashlib.sha256(b"other").hexdigest()
    assert _send(client, headers, statement(attachments=[meta]),
                 [(wrong, data, "text/plain")]).status_code == 400


def test_attachment_content_missing_is_400(client, headers):
    meta = _attachment(b"content")
    response = client.post("/xapi/statements", data=json.dumps(statement(attachments=[meta])),
                           headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 400


def test_attachment_with_file_url_needs_no_content(client, headers):
    meta = dict(_attachment(b"content"), fileUrl="http://example.com/file.txt")
    response = client.post("/xapi/statements", data=json.dumps(statement(attachments=[meta])),
                           headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 200


def test_attachment_part_without_binary_encoding_is_400(client, headers):
    data = b"content"
    meta = _attachment(data)
    assert _send(client, headers, statement(attachments=[meta]),
                 [(meta["sha2"], data, "text/plain")], encoding=False).status_code == 400


def test_unreferenced_attachment_part_is_400(client, headers):
    data = b"content"
    assert _send(client, headers, statement(),
                 [(hashlib.sha256(data).hexdigest(), data, "text/plain")]).status_code == 400


@pytest.fixture(scope="module")
def signer():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "skilltrace test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    der = cert.public_bytes(serialization.Encoding.DER)
    return key, base64.b64encode(der).decode()


def _signed(signer, body, payload=None, algorithm="RS256"):
    key, x5c = signer
    token = jwt.api_jws.encode(json.dumps(payload or body).encode(), key, algorithm=algorithm,
                               headers={"x5c": [x5c]}).encode()
    meta = _attachment(token, usage=SIGNATURE, content_type="application/octet-stream")
    return dict(body, attachments=[meta]), [(meta["sha2"], token, "application/octet-stream")]


def test_signed_statement_is_accepted(client, headers, signer):
    document, parts = _signed(signer, statement(id=new_id()))
    assert _send(client, headers, document, parts).status_code == 200


def test_signed_statement_with_other_payload_is_400(client, headers, signer):
    body = statement(id=new_id())
    tampered = dict(body, verb={"id": "http://adlnet.gov/expapi/verbs/failed"})
    document, parts = _signed(signer, body, payload=tampered)
    assert _send(client, headers, document, parts).status_code == 400


def test_signed_statement_with_hmac_is_400(client, headers):
    body = statement(id=new_id())
    token = jwt.api_jws.encode(json.dumps(body).encode(), "s" * 32, algorithm="HS256").encode()
    meta = _attachment(token, usage=SIGNATURE, content_type="application/octet-stream")
    assert _send(client, headers, dict(body, attachments=[meta]),
                 [(meta["sha2"], token, "application/octet-stream")]).status_code == 400


def test_signed_statement_with_bad_signature_is_400(client, headers, signer):
    document, parts = _signed(signer, statement(id=new_id()))
    sha2, token, ctype = parts[0]
    head, payload, sig = token.split(b".")
    forged = b".".join([head, payload, sig[:-4] + (b"AAAA" if sig[-4:] != b"AAAA" else b"BBBB")])
    meta = dict(document["attachments"][0], sha2=hashlib.sha256(forged).hexdigest(),
                length=len(forged))
    assert _send(client, headers, dict(document, attachments=[meta]),
                 [(meta["sha2"], forged, ctype)]).status_code == 400
