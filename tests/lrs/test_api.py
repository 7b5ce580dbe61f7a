"""The package surface: `__all__`, `init_app`, the metadata, and `record_statement`, which
stores in the caller's transaction without committing."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

import lrs
from lrs.storage.tables import Statement
from tests.lrs.factories import statement

AUTHORITY = {"objectType": "Agent", "name": "SkillTrace",
             "account": {"homePage": "https://skilltrace.example.org", "name": "app"}}


def test_exported_names():
    assert sorted(lrs.__all__) == sorted([
        "init_app", "metadata", "record_statement", "LRSStore", "SQLAlchemyStore",
        "StatementQuery", "LRSError", "BadRequestError", "UnauthorizedError",
        "ForbiddenError", "NotFoundError", "ConflictError", "PreconditionFailedError"])
    for name in lrs.__all__:
        assert hasattr(lrs, name)


def test_metadata_tables_have_lrs_prefix_and_naming_convention():
    assert all(name.startswith("lrs_") for name in lrs.metadata.tables)
    assert lrs.metadata.naming_convention["pk"] == "pk_%(table_name)s"


def test_record_statement_leaves_commit_to_caller(app, store):
    with app.app_context():
        session = store.session()
        ident = lrs.record_statement(session, statement(), AUTHORITY)
        assert isinstance(ident, uuid.UUID)
        session.rollback()
        assert session.scalar(select(Statement).where(Statement.id == ident)) is None
        ident = lrs.record_statement(session, statement(), AUTHORITY)
        session.commit()
        stored = session.scalar(select(Statement).where(Statement.id == ident))
        assert stored.payload["authority"] == AUTHORITY


def test_record_statement_validates(app, store):
    with app.app_context(), pytest.raises(lrs.BadRequestError):
        lrs.record_statement(store.session(), statement(verb={"id": "nope"}), AUTHORITY)
