"""The application factory and configuration."""
import base64
import stat

import pytest
from sqlalchemy import text

from app import create_app
from app.config import BaseConfig, normalise_database_url
from app.extensions import db

VALID_KEY = base64.b64encode(b"k" * 32).decode()


def test_factory_generates_secrets_into_instance(tmp_path):
    app = create_app({"SKILLTRACE_ENV": "testing", "INSTANCE_PATH": str(tmp_path)})
    secret = tmp_path / "secret_key"
    assert app.config["SECRET_KEY"] == secret.read_text().strip()
    assert len(app.config["SECRET_KEY"]) >= 40
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    again = create_app({"SKILLTRACE_ENV": "testing", "INSTANCE_PATH": str(tmp_path)})
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]
    keys = tmp_path / "template_keys"
    assert app.config["TEMPLATE_KEYS"] == keys.read_text().strip()
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    assert again.config["TEMPLATE_KEYS"] == app.config["TEMPLATE_KEYS"]
    assert app.extensions["face"].cipher.current_key_id == "local1"


def test_face_settings_come_from_the_environment(tmp_path):
    from recognition import generate_key

    spec = f"2025a:{generate_key()},2024b:{generate_key()}"
    settings = BaseConfig.load(tmp_path, {"SKILLTRACE_TEMPLATE_KEYS": spec, "SKILLTRACE_TEMPLATE_KEY_ID": "2024b",
                                          "SKILLTRACE_FACE_ENCODER": "dlib",
                                          "SKILLTRACE_FACE_MATCH_THRESHOLD": "0.35"})
    assert not (tmp_path / "template_keys").exists()
    app = create_app({"SKILLTRACE_ENV": "testing", "INSTANCE_PATH": str(tmp_path), **{
        k: settings[k] for k in ("TEMPLATE_KEYS", "TEMPLATE_KEY_ID", "FACE_ENCODER", "FACE_MATCH_THRESHOLD")}})
    face = app.extensions["face"]
    assert (face.cipher.current_key_id, face.encoder, face.match_threshold) == ("2024b", "dlib", 0.35)
    assert face.duplicate_threshold == 0.35
    assert face.model_dir == str(tmp_path / "models")
    assert "pipeline" not in vars(face)  # nothing built, no model loaded, until the first frame


def test_the_default_threshold_follows_the_detector_in_use(tmp_path, monkeypatch):
    """RetinaFace's alignment and HOG's were calibrated apart (0.587 and 0.58 for mobilefacenet):
    HOG chosen by setting, or used because RetinaFace's weights are missing, gets its own."""
    import recognition.detect as detect_module
    from recognition import default_threshold

    def face_of(path, **settings):
        app = create_app({"SKILLTRACE_ENV": "testing", "INSTANCE_PATH": str(path), **settings})
        return app.extensions["face"]

    settings = BaseConfig.load(tmp_path, {"SKILLTRACE_FACE_DETECTOR": "hog"})
    hog = face_of(tmp_path / "hog", FACE_DETECTOR=settings["FACE_DETECTOR"])
    assert (hog.detector, hog.match_threshold) == ("hog", default_threshold("mobilefacenet", "hog")) == ("hog", 0.58)
    assert face_of(tmp_path / "default").match_threshold == 0.587
    assert face_of(tmp_path / "set", FACE_MATCH_THRESHOLD=0.5).match_threshold == 0.5

    def missing(cache_dir=None):
        from recognition import ModelNotAvailableError
        raise ModelNotAvailableError("no weights")

    monkeypatch.setattr(detect_module, "load_retinaface_session", missing)
    fallback = face_of(tmp_path / "fallback")  # its own model dir: the detector is not cached yet
    assert fallback.detector == "retinaface" and fallback.match_threshold == 0.58
    assert fallback.duplicate_threshold == 0.58


@pytest.mark.parametrize("overrides, problem", [
    ({"TEMPLATE_KEYS": "k1:not-base64!"}, "SKILLTRACE_TEMPLATE_KEYS"),
    ({"TEMPLATE_KEYS": "k1:" + VALID_KEY, "TEMPLATE_KEY_ID": "k2"}, "'k2' is not among"),
    ({"TEMPLATE_KEYS": f"k1:{VALID_KEY},k2:{VALID_KEY}"}, "must name the current key"),
    ({"FACE_ENCODER": "arcface"}, "SKILLTRACE_FACE_ENCODER"),
    ({"FACE_DETECTOR": "cnn"}, "SKILLTRACE_FACE_DETECTOR"),
    ({"FACE_MATCH_THRESHOLD": 7.0}, "thresholds"),
])
def test_bad_face_settings_stop_the_app(tmp_path, overrides, problem):
    with pytest.raises(RuntimeError, match=problem):
        create_app({"SKILLTRACE_ENV": "testing", "INSTANCE_PATH": str(tmp_path), **overrides})


def test_config_reads_environment(tmp_path):
    settings = BaseConfig.load(tmp_path, {"SECRET_KEY": "s" * 40, "SKILLTRACE_TEMPLATE_KEYS": "k:" + VALID_KEY,
                                          "DATABASE_URL": "postgres://u@h/db", "PORT": "8123",
                                          "LANGUAGE": "en",
                                          "SKILLTRACE_LRS_FALLBACK_VERSION": "1.0.3"})
    assert settings["SECRET_KEY"] == "s" * 40
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    assert settings["PORT"] == 8123
    assert settings["BABEL_DEFAULT_LOCALE"] == "en"
    assert settings["LRS_FALLBACK_VERSION"] == "1.0.3"
    assert not (tmp_path / "secret_key").exists()


def test_config_defaults_to_sqlite_in_instance(tmp_path):
    settings = BaseConfig.load(tmp_path, {})
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'skilltrace.db'}"
    assert settings["BABEL_DEFAULT_LOCALE"] == "zh_CN"
    assert settings["PORT"] == 5000


def test_production_refuses_to_start_without_secrets(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SKILLTRACE_ENV": "production", "INSTANCE_PATH": str(tmp_path)})
    assert not (tmp_path / "secret_key").exists()
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("SKILLTRACE_TEMPLATE_KEYS", "k:" + VALID_KEY)
    monkeypatch.delenv("SKILLTRACE_TEMPLATE_KEY_ID", raising=False)
    with pytest.raises(RuntimeError, match="SKILLTRACE_TEMPLATE_KEY_ID"):
        create_app({"SKILLTRACE_ENV": "production", "INSTANCE_PATH": str(tmp_path)})
    assert not (tmp_path / "template_keys").exists()


def test_unknown_environment_name_is_refused(tmp_path):
    with pytest.raises(RuntimeError, match="SKILLTRACE_ENV"):
        create_app({"SKILLTRACE_ENV": "staging", "INSTANCE_PATH": str(tmp_path)})


@pytest.mark.parametrize("url, expected", [
    ("postgresql://postgres@127.0.0.1/test", "postgresql+psycopg://postgres@127.0.0.1/test"),
    ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
])
def test_normalise_database_url(url, expected):
    assert normalise_database_url(url) == expected


def test_sqlite_runs_with_wal_and_foreign_keys(tmp_path):
    app = create_app({"SKILLTRACE_ENV": "testing", "INSTANCE_PATH": str(tmp_path)})
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_the_screen_colour_step_is_switched_by_the_environment(tmp_path):
    assert BaseConfig.load(tmp_path, {})["LIVENESS_COLOUR"] is True
    assert BaseConfig.load(tmp_path, {"SKILLTRACE_LIVENESS_COLOUR": "off"})["LIVENESS_COLOUR"] is False
    assert BaseConfig.load(tmp_path, {"SKILLTRACE_LIVENESS_COLOUR": "ON"})["LIVENESS_COLOUR"] is True
    with pytest.raises(RuntimeError, match="SKILLTRACE_LIVENESS_COLOUR must be on or off"):
        BaseConfig.load(tmp_path, {"SKILLTRACE_LIVENESS_COLOUR": "maybe"})
