"""Enrolment from agreeing captures, and templates encrypted with AES-GCM."""

import numpy as np
import pytest

from recognition import (
    EnrolmentRejected, Template, TemplateCipher, TemplateError, enrol_template, generate_key, parse_keys, verify,
)


@pytest.fixture(scope="module")
def obama(pipelines, face_bytes):
    p = pipelines["mobilefacenet"]
    return [p.encode_bytes(face_bytes(n))[1] for n in ("obama.jpg", "obama2.jpg", "obama3.jpg", "obama-480p.jpg")]


@pytest.fixture(scope="module")
def biden(pipelines, face_bytes):
    return pipelines["mobilefacenet"].encode_bytes(face_bytes("biden.jpg"))[1]


def test_enrol_template_combines_agreeing_captures(obama):
    template = enrol_template(obama[:3])
    assert template.captures == 3 and template.encoder == "mobilefacenet"
    assert abs(np.linalg.norm(template.vector) - 1.0) < 1e-5
    assert verify(template, obama[3]).is_match


def test_enrol_template_refuses_disagreeing_or_too_few_captures(obama, biden):
    with pytest.raises(EnrolmentRejected) as info:
        enrol_template([obama[0], obama[1], biden])
    assert info.value.reason == "captures_disagree"
    with pytest.raises(EnrolmentRejected) as info:
        enrol_template(obama[:2])
    assert info.value.reason == "too_few_captures"


def _cipher(**extra):
    keys = {"k2025": bytes(range(32)), **extra}
    return TemplateCipher(keys, "k2025")


def test_template_encryption_round_trip(obama):
    template = enrol_template(obama[:3])
    token = _cipher().encrypt(template)
    assert template.vector.tobytes() not in token
    back = _cipher().decrypt(token, expected_encoder="mobilefacenet")
    np.testing.assert_array_equal(back.vector, template.vector)
    assert (back.encoder, back.captures) == ("mobilefacenet", 3)
    assert TemplateCipher.key_id_of(token) == "k2025"


def test_template_decrypt_fails_with_wrong_key_tampering_or_other_encoder():
    template = Template(np.ones(128, np.float32), "mobilefacenet", 3)
    token = _cipher().encrypt(template)
    with pytest.raises(TemplateError):
        TemplateCipher({"k2025": bytes(32)}, "k2025").decrypt(token)
    with pytest.raises(TemplateError):
        TemplateCipher({"other": bytes(range(32))}, "other").decrypt(token)
    tampered = bytearray(token)
    tampered[-20] ^= 1
    with pytest.raises(TemplateError):
        _cipher().decrypt(bytes(tampered))
    with pytest.raises(TemplateError):
        _cipher().decrypt(token, expected_encoder="dlib")
    with pytest.raises(TemplateError):
        _cipher().decrypt(b"junk")


def test_template_key_rotation():
    old = _cipher()
    token = old.encrypt(Template(np.arange(128, dtype=np.float32), "dlib", 1))
    new_key = parse_keys(f"k2026:{generate_key()}")["k2026"]
    both = TemplateCipher({"k2025": bytes(range(32)), "k2026": new_key}, "k2026")
    rotated = both.rotate(token)
    assert TemplateCipher.key_id_of(rotated) == "k2026"
    np.testing.assert_array_equal(both.decrypt(rotated).vector, np.arange(128, dtype=np.float32))
    with pytest.raises(TemplateError):
        old.decrypt(rotated)


def test_parse_keys_refuses_bad_entries():
    for spec in ("nokey", "a:!!!", "a:" + "QUJD", f"a:{generate_key()},a:{generate_key()}", f"bad id:{generate_key()}"):
        with pytest.raises(ValueError):
            parse_keys(spec)
    assert len(parse_keys(f"a:{generate_key()}, b:{generate_key()}")) == 2
