"""Hostile input: fuzzed image decoding and statement validation, oversize bodies, wrong content
types, path tricks in document and attachment ids, SQL metacharacters in every query parameter.
Each is refused cleanly (a 4xx, never a 500) and leaves every table as it was."""
from __future__ import annotations

import json
import struct
import zlib
from urllib.parse import urlencode

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrs.exceptions import LRSError
from lrs.models.statements import check_statement_batch
from lrs.schemas import MAX_DOCUMENT_ID
from recognition import ImageRefused
from recognition.decode import DEFAULT_MAX_SIDE, decode_image
from tests.conftest import FACES
from tests.lrs.factories import statement
from tests.security.helpers import build_world, database_digest, principals

FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
REAL_JPEG = (FACES / "obama_small.jpg").read_bytes()
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20)


def _decodes_or_refuses(data: bytes) -> None:
    try:
        image = decode_image(data)
    except ImageRefused:
        return
    assert image.dtype == np.uint8 and image.ndim == 3 and max(image.shape[:2]) <= DEFAULT_MAX_SIDE


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\x00\x00\x00")) + chunk(b"IEND", b""))


def _jpeg_declaring(width: int, height: int) -> bytes:
    sof = REAL_JPEG.index(b"\xff\xc0")
    return REAL_JPEG[:sof + 5] + struct.pack(">HH", height, width) + REAL_JPEG[sof + 9:]


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes_are_refused_by_the_decoder(data):
    _decodes_or_refuses(data)


@FUZZ
@given(st.integers(1, 2**31 - 1), st.integers(1, 2**31 - 1), st.booleans())
def test_huge_declared_sizes_are_refused_before_decoding(width, height, png):
    _decodes_or_refuses(_png(width, height) if png else _jpeg_declaring(min(width, 65535), min(height, 65535)))


@FUZZ
@given(st.integers(0, len(REAL_JPEG) - 1), st.integers(0, 255), st.integers(0, len(REAL_JPEG)))
def test_corrupted_and_truncated_photos_are_refused_or_decoded(position, value, cut):
    damaged = bytearray(REAL_JPEG)
    damaged[position] = value
    _decodes_or_refuses(bytes(damaged[:cut]))


def _valid_or_refused(document) -> None:
    for version in ("1.0.3", "2.0.0"):
        try:
            check_statement_batch(document, version)
        except LRSError as exc:
            assert 400 <= exc.status < 500


@FUZZ
@given(JSON_VALUES)
def test_random_json_is_refused_by_statement_validation(document):
    _valid_or_refused(document)


@FUZZ
@given(st.sampled_from(["actor", "verb", "object", "result", "context", "timestamp", "id",
                        "attachments", "authority", "version"]), JSON_VALUES)
def test_statements_with_one_random_part_are_refused_or_accepted(name, value):
    _valid_or_refused(statement(**{name: value}))
    _valid_or_refused([statement(), statement(object={"objectType": "SubStatement", name: value})])


@pytest.fixture
def world(app):
    app.config["LRS_MAX_BODY_BYTES"] = 64 * 1024
    return build_world(app)


@pytest.fixture
def as_(app, world):
    return principals(app, world, ("admin", "trainee", "lrs:all"))


def _admin_post(as_, path, **kwargs):
    token = as_["admin"].client.get("/").text.split('name="csrf_token"', 1)[1].split('value="')[1].split('"')[0]
    return as_["admin"].send("POST", path, headers={"X-CSRFToken": token}, **kwargs)


def test_random_json_over_http_is_answered_400_or_stored(app, world, as_):
    @FUZZ
    @given(JSON_VALUES)
    def post(document):
        response = as_["lrs:all"].send("POST", "/xapi/statements", data=json.dumps(document),
                                       content_type="application/json")
        assert response.status_code in (200, 400), response.text
    post()


def test_oversize_bodies_get_413_json_and_change_nothing(app, world, as_):
    before = database_digest()
    big = json.dumps({"name": "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)})
    response = _admin_post(as_, "/api/trainees", data=big, content_type="application/json")
    assert response.status_code == 413 and response.json["error"]
    lrs_big = json.dumps(statement(result={"response": "x" * 70_000}))
    response = as_["lrs:all"].send("POST", "/xapi/statements", data=lrs_big, content_type="application/json")
    assert response.status_code == 413 and response.is_json
    assert database_digest() == before


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/x-www-form-urlencoded"])
def test_wrong_content_types_are_refused(app, world, as_, content_type):
    before = database_digest()
    body = json.dumps({"code": "X1", "name": "焊工"})
    for path in ("/api/catalogue/occupation", "/api/trainees", "/api/classes"):
        response = _admin_post(as_, path, data=body, content_type=content_type)
        assert response.status_code == 400 and response.json["error"] == "invalid_json", path
    response = as_["lrs:all"].send("POST", "/xapi/statements", data=json.dumps(statement()),
                                   content_type=content_type)
    assert response.status_code == 400
    response = as_["trainee"].send("POST", "/api/attendance/check-in", data=body, content_type=content_type)
    assert 400 <= response.status_code < 500
    assert database_digest() == before


TRICKY_IDS = ["../../etc/passwd", "..\\..\\windows\\win.ini", "/etc/shadow", "a\x00b", "%00", "x" * 5000,
              "\u202e\u0000", "' OR '1'='1"]


@pytest.mark.parametrize("doc_id", TRICKY_IDS)
def test_path_tricks_in_document_ids_are_refused_or_kept_opaque(app, world, as_, doc_id, tmp_path):
    params = {"activityId": "http://example.com/a", "stateId": doc_id,
              "agent": json.dumps({"mbox": "mailto:a@example.com"})}
    url = "/xapi/activities/state?" + urlencode(params)
    put = as_["lrs:all"].send("PUT", url, data=b'{"k": 1}', content_type="application/json")
    if "\x00" in doc_id or len(doc_id) > MAX_DOCUMENT_ID:
        assert put.status_code == 400, put.text
        return
    assert put.status_code == 204
    assert as_["lrs:all"].send("GET", url).json == {"k": 1}  # an opaque key, not a path
    assert not any(p.name in ("passwd", "shadow", "win.ini") for p in tmp_path.rglob("*"))


@pytest.mark.parametrize("sha2", ["../../etc/passwd", "a" * 64 + "/..", "\x00" * 64, "' OR 1=1 --" * 6])
def test_path_tricks_in_attachment_hashes_are_refused(app, world, as_, sha2):
    before = database_digest()
    body = (b"--b\r\nContent-Type: application/json\r\n\r\n" + json.dumps(statement()).encode()
            + b"\r\n--b\r\nContent-Type: text/plain\r\nX-Experience-API-Hash: " + sha2.encode("latin-1")
            + b"\r\nContent-Transfer-Encoding: binary\r\n\r\nhello\r\n--b--\r\n")
    response = as_["lrs:all"].send("POST", "/xapi/statements", data=body,
                                   content_type="multipart/mixed; boundary=b")
    assert response.status_code == 400
    assert database_digest() == before


SQL = ["' OR '1'='1", "a\x00b", "1; DROP TABLE lrs_statements; --", "\" OR 1=1 --", "%' --", "\\x00",
       "99999999999999999999999", "-1", "1e309", "{\"mbox\": \"mailto:' OR 1=1 --\"}"]
LRS_FILTERS = ["agent", "verb", "activity", "registration", "related_activities", "related_agents",
               "since", "until", "limit", "format", "attachments", "ascending", "statementId",
               "voidedStatementId", "more"]
APP_QUERIES = ["/api/classes?status={}", "/classes?status={}", "/audit/?before={}", "/login?next={}",
               "/language/en?next={}", "/api/trainees?q={}"]


def test_sql_metacharacters_in_every_filter_are_refused_cleanly(app, world, as_):
    stored = as_["lrs:all"].send("POST", "/xapi/statements", data=json.dumps(statement()),
                                 content_type="application/json")
    assert stored.status_code == 200
    before = database_digest()
    for name in LRS_FILTERS:
        for value in SQL:
            response = as_["lrs:all"].send("GET", "/xapi/statements?" + urlencode({name: value}))
            assert response.status_code == 400 or name == "limit" or (
                response.status_code == 200 and response.json.get("statements") in ([], None)), (name, value)
    for pattern in APP_QUERIES:
        for value in SQL:
            response = as_["admin"].send("GET", pattern.format(value))
            assert response.status_code < 500, (pattern, value, response.status_code)
    assert database_digest() == before


@pytest.mark.parametrize("path", ["/api/attendance/check-in", "/api/me/face/check", "/logout"])
def test_a_multipart_part_without_a_name_is_refused(app, world, as_, path):
    body = (b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n"
            b"--b\r\nContent-Disposition: form-data; name=\"nonce\"\r\n\r\nn\r\n--b--\r\n")
    response = _admin_post(as_, path, data=body, content_type="multipart/form-data; boundary=b") \
        if path == "/logout" else as_["trainee"].send("POST", path, data=body,
                                                       content_type="multipart/form-data; boundary=b")
    assert response.status_code == 400
