"""The application factory and configuration."""
import stat

import pytest
from sqlalchemy import text

from app import create_app
from app.config import BaseConfig, normalise_database_url
from app.extensions import db


def test_factory_generates_secrets_into_instance(tmp_path):
    app = create_app({"SKILLTRACE_ENV": "testing", "INSTANCE_PATH": str(tmp_path)})
    secret = tmp_path / "secret_key"
    assert app.config["SECRET_KEY"] == secret.read_text().strip()
    assert len(app.config["SECRET_KEY"]) >= 40
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    again = create_app({"SKILLTRACE_ENV": "testing", "INSTANCE_PATH": str(tmp_path)})
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]
    assert app.config["TEMPLATE_KEY"] != app.config["SECRET_KEY"]


def test_config_reads_environment(tmp_path):
    settings = BaseConfig.load(tmp_path, {"SECRET_KEY": "s" * 40, "SKILLTRACE_TEMPLATE_KEY": "t" * 40,
                                          "DATABASE_URL": "postgres://u@h/db", "PORT": "8123",
                                          "LANGUAGE": "en"})
    assert settings["SECRET_KEY"] == "s" * 40
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    assert settings["PORT"] == 8123
    assert settings["BABEL_DEFAULT_LOCALE"] == "en"
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
