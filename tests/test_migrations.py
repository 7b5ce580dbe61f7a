"""The migrations and the models agree, and upgrade → downgrade → upgrade works."""
import pytest
from flask import current_app
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

import lrs
from app.extensions import db
from tests.conftest import _backends, build_app

# The LRS keeps its tables on its own MetaData; the migrations cover both.
METADATA = [db.metadata, lrs.metadata]


@pytest.fixture(params=_backends())
def empty_app(request, fresh_database, tmp_path):
    app = build_app(fresh_database(request.param), tmp_path)
    with app.app_context():
        yield app
        db.engine.dispose()


def _tables() -> set[str]:
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def _differences() -> list:
    migrate_ext = current_app.extensions["migrate"]
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts=migrate_ext.configure_args)
        return compare_metadata(context, METADATA)


def test_models_match_migrations(empty_app):
    upgrade()
    assert _differences() == []


def test_upgrade_downgrade_upgrade(empty_app):
    upgrade()
    expected = set(db.metadata.tables) | set(lrs.metadata.tables)
    assert _tables() == expected
    downgrade(revision="base")
    assert _tables() == set()
    upgrade()
    assert _tables() == expected
