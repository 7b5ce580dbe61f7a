"""The LRS tables, on their own declarative base and `MetaData` (with a naming convention so
that Alembic names constraints predictably). Statements keep their full JSON plus indexed
columns; link tables from statements to agents and activities serve the query filters."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (Boolean, ForeignKey, Index, LargeBinary, MetaData, String,
                        Text, UniqueConstraint, Uuid, text)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from lrs.inputs import MAX_CONTENT_TYPE
from lrs.storage.dialects import BigIntKey, JSONType, UTCDateTime

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})


class Base(DeclarativeBase):
    """Declarative base of the LRS tables only."""

    metadata = metadata


class Credential(Base):
    """An LRS client's key/secret pair; the secret is kept only as an argon2/scrypt hash."""

    __tablename__ = "lrs_credentials"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(200))
    scopes: Mapped[list] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Statement(Base):
    """A stored statement: the full JSON plus the columns the filters need.

    `pk` is the storage order (and the paging cursor); `voiding_target` is the id a voiding
    statement points at, so that a voided statement arriving after its voider is caught;
    `ref_target` is the id any StatementRef object points at (for the StatementRef filter rule).
    """

    __tablename__ = "lrs_statements"

    pk: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid)
    stored: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime)
    verb_iri: Mapped[str] = mapped_column(Text)
    registration: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    is_voided: Mapped[bool] = mapped_column(Boolean, default=False)
    voiding_target: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    ref_target: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    credential_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    payload: Mapped[dict] = mapped_column(JSONType)

    __table_args__ = (
        # PostgreSQL: the id index also carries what SkillTrace's nightly reconciliation compares,
        # so that it reads every statement in id order without visiting one (an index-only scan)
        UniqueConstraint("id", postgresql_include=["registration", "timestamp", "verb_iri"]),
        Index("ix_lrs_statements_verb_iri_pk", "verb_iri", "pk"),
        Index("ix_lrs_statements_registration_pk", "registration", "pk"),
        # Partial: voiding statements are few, and a full index over mostly NULLs makes
        # SQLite's statistics (ANALYZE) judge it useless and scan the table instead.
        Index("ix_lrs_statements_voiding_target_set", "voiding_target",
              postgresql_where=text("voiding_target IS NOT NULL"),
              sqlite_where=text("voiding_target IS NOT NULL")),
        # Only statements with a StatementRef object: the StatementRef filter rule walks them.
        Index("ix_lrs_statements_ref_pk", "pk", "ref_target",
              postgresql_where=text("ref_target IS NOT NULL"),
              sqlite_where=text("ref_target IS NOT NULL")),
    )


class StatementAgent(Base):
    """Links a statement to each agent it mentions, once; `direct` when the agent is (or is a
    member of) the actor or the object, not only elsewhere (authority, context, ...).

    `verb_iri` repeats the statement's verb so that the common agent+verb query is answered
    from one index, without visiting every statement of the agent.
    """

    __tablename__ = "lrs_statement_agents"

    statement_pk: Mapped[int] = mapped_column(
        BigIntKey, ForeignKey("lrs_statements.pk", ondelete="CASCADE"), primary_key=True)
    ifi: Mapped[str] = mapped_column(Text, primary_key=True)
    direct: Mapped[bool] = mapped_column(Boolean)
    verb_iri: Mapped[str] = mapped_column(Text, server_default="")

    # Queries walk these indexes backwards from the newest statement of one agent (and verb).
    __table_args__ = (
        Index("ix_lrs_statement_agents_ifi_pk", "ifi", "statement_pk"),
        Index("ix_lrs_statement_agents_ifi_verb_pk", "ifi", "verb_iri", "statement_pk",
              "direct"),
    )


class StatementActivity(Base):
    """Links a statement to each activity it mentions, once; `direct` when it is the object."""

    __tablename__ = "lrs_statement_activities"

    statement_pk: Mapped[int] = mapped_column(
        BigIntKey, ForeignKey("lrs_statements.pk", ondelete="CASCADE"), primary_key=True)
    iri: Mapped[str] = mapped_column(Text, primary_key=True)
    direct: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (Index("ix_lrs_statement_activities_iri_pk", "iri", "statement_pk"),)


class Attachment(Base):
    """Attachment content, stored once per SHA-2."""

    __tablename__ = "lrs_attachments"

    sha2: Mapped[str] = mapped_column(String(128), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(MAX_CONTENT_TYPE))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class Activity(Base):
    """The canonical definition of an activity, merged from the statements that used it."""

    __tablename__ = "lrs_activities"

    iri: Mapped[str] = mapped_column(Text, primary_key=True)
    definition: Mapped[dict] = mapped_column(JSONType)
    updated: Mapped[datetime] = mapped_column(UTCDateTime)


class Document(Base):
    """A state, activity profile or agent profile document.

    Unused key parts are stored as '' rather than NULL so the unique constraint holds.
    """

    __tablename__ = "lrs_documents"

    pk: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    activity_iri: Mapped[str] = mapped_column(Text, default="")
    agent_ifi: Mapped[str] = mapped_column(Text, default="")
    registration: Mapped[str] = mapped_column(String(36), default="")
    doc_id: Mapped[str] = mapped_column(Text)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    content_type: Mapped[str] = mapped_column(String(MAX_CONTENT_TYPE))
    etag: Mapped[str] = mapped_column(String(64))
    updated: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("kind", "activity_iri", "agent_ifi", "registration", "doc_id",
                         name="uq_lrs_documents_key"),
    )


class Cursor(Base):
    """The parameters of a long statement query, kept so that its `more` links stay short.

    Keyed by a digest of the parameters (the same query reuses its row); `created` is renewed
    when a row older than a day is reused, and rows two days old are purged (a link lives a day).
    """

    __tablename__ = "lrs_cursors"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    params: Mapped[dict] = mapped_column(JSONType)
    created: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
