"""Named reads, each taking a `Session`: statements by id and by filter, voiding state,
attachments, activities, documents and credentials."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select, union
from sqlalchemy.orm import Session, aliased

from lrs.storage.base import StatementQuery
from lrs.storage.tables import (Activity, Attachment, Credential, Document, Statement,
                                StatementActivity, StatementAgent)


def get_payloads_by_ids(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, dict]:
    """Stored payloads of those `ids` that exist."""
    if not ids:
        return {}
    rows = session.execute(select(Statement.id, Statement.payload).where(Statement.id.in_(ids)))
    return {row.id: row.payload for row in rows}


def get_voiding_flags(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, bool]:
    """For stored statements among `ids`: whether each is itself a voiding statement."""
    rows = session.execute(select(Statement.id, Statement.voiding_target)
                           .where(Statement.id.in_(ids)))
    return {row.id: row.voiding_target is not None for row in rows}


def get_voided_among(session: Session, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Those `ids` that a stored voiding statement already points at."""
    if not ids:
        return set()
    return set(session.scalars(select(Statement.voiding_target)
                               .where(Statement.voiding_target.in_(ids))))


def get_statement(session: Session, ident: uuid.UUID) -> Statement | None:
    """One statement by id, voided or not."""
    return session.scalar(select(Statement).where(Statement.id == ident))


def _target_conditions(table, query: StatementQuery) -> list:
    """The agent/verb/activity/registration conditions, applied to `table` (an alias)."""
    conditions = []
    if query.agent is not None:
        link = select(StatementAgent.statement_pk).where(StatementAgent.ifi == query.agent)
        if not query.related_agents:
            link = link.where(StatementAgent.direct.is_(True))
        conditions.append(table.pk.in_(link))
    if query.activity is not None:
        link = select(StatementActivity.statement_pk).where(
            StatementActivity.iri == query.activity)
        if not query.related_activities:
            link = link.where(StatementActivity.direct.is_(True))
        conditions.append(table.pk.in_(link))
    if query.verb is not None:
        conditions.append(table.verb_iri == query.verb)
    if query.registration is not None:
        conditions.append(table.registration == query.registration)
    return conditions


def _page_conditions(query: StatementQuery) -> list:
    """Conditions on the returned statement itself: not voided, stored window, owner, cursor."""
    conditions = [Statement.is_voided.is_(False)]
    if query.since is not None:
        conditions.append(Statement.stored > query.since)
    if query.until is not None:
        conditions.append(Statement.stored <= query.until)
    if query.credential_id is not None:
        conditions.append(Statement.credential_id == query.credential_id)
    if query.after_pk is not None:
        conditions.append(Statement.pk > query.after_pk if query.ascending
                          else Statement.pk < query.after_pk)
    return conditions


def find_statements(session: Session, query: StatementQuery) -> list[tuple[int, dict]]:
    """(pk, payload) of the non-voided statements matching `query`, in storage order.

    Returns up to `limit + 1` rows so the caller knows whether a further page exists. Each
    agent/activity filter is an indexed probe of its link table. Following the spec's
    StatementRef rule, a statement whose StatementRef object targets a statement that meets
    the agent/verb/activity/registration filters matches too (one level deep); that part is a
    separate, separately limited branch so the main branch keeps its index order.
    """
    order = Statement.pk.asc() if query.ascending else Statement.pk.desc()
    size = query.limit + 1
    targets = _target_conditions(Statement, query)
    page = _page_conditions(query)
    if not targets:
        stmt = select(Statement.pk, Statement.payload).where(*page).order_by(order).limit(size)
        return [(row.pk, row.payload) for row in session.execute(stmt)]
    direct = select(Statement.pk).where(*targets, *page).order_by(order).limit(size).subquery()
    target = aliased(Statement)
    via_ref = (select(Statement.pk).join(target, target.id == Statement.ref_target)
               .where(*_target_conditions(target, query), *page)
               .order_by(order).limit(size).subquery())
    pks = union(select(direct.c.pk), select(via_ref.c.pk)).subquery()
    stmt = (select(Statement.pk, Statement.payload).where(Statement.pk.in_(select(pks.c.pk)))
            .order_by(order).limit(size))
    return [(row.pk, row.payload) for row in session.execute(stmt)]


def get_attachments(session: Session, sha2s: set[str]) -> dict[str, tuple[str, bytes]]:
    """Attachment (content type, bytes) by SHA-2, for those stored."""
    if not sha2s:
        return {}
    rows = session.execute(select(Attachment).where(Attachment.sha2.in_(sha2s))).scalars()
    return {row.sha2: (row.content_type, row.content) for row in rows}


def get_activity(session: Session, iri: str) -> Activity | None:
    """The canonical activity definition, if one was ever stored."""
    return session.get(Activity, iri)


def get_document(session: Session, key: dict) -> Document | None:
    """The document at a full key (kind, activity_iri, agent_ifi, registration, doc_id)."""
    return session.scalar(select(Document).filter_by(**key))


def list_documents(session: Session, key: dict, since: datetime | None = None
                   ) -> list[Document]:
    """Documents matching a partial key (no doc_id), optionally updated after `since`."""
    stmt = select(Document).filter_by(**key)
    if since is not None:
        stmt = stmt.where(Document.updated > since)
    return list(session.scalars(stmt.order_by(Document.pk)))


def get_credential_by_key(session: Session, key: str) -> Credential | None:
    """The credential with this public key, revoked or not."""
    return session.scalar(select(Credential).where(Credential.key == key))


def list_credentials(session: Session) -> list[Credential]:
    """All credentials, oldest first."""
    return list(session.scalars(select(Credential).order_by(Credential.created_at)))


def latest_stored(session: Session) -> datetime | None:
    """The newest `stored` time, for X-Experience-API-Consistent-Through."""
    return session.scalar(select(func.max(Statement.stored)))
