"""Named reads, each taking a `Session`: statements by id and by filter, voiding state,
attachments, activities, documents and credentials."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Text, cast, exists, func, select, union, union_all
from sqlalchemy.orm import Session, aliased

from lrs.storage.base import StatementQuery
from lrs.storage.dialects import unindexed
from lrs.storage.tables import (Activity, Attachment, Credential, Cursor, Document, Statement,
                                StatementActivity, StatementAgent)


def get_payloads_and_voiders(session: Session, ids: list[uuid.UUID]
                             ) -> tuple[dict[uuid.UUID, dict], set[uuid.UUID]]:
    """In one query: the stored payloads of those `ids` that exist, and those `ids` that a
    stored voiding statement already points at."""
    if not ids:
        return {}, set()
    columns = (Statement.id, Statement.payload, Statement.voiding_target)
    # UNION ALL rather than OR: SQLite would scan the table for the OR.
    rows = session.execute(union_all(select(*columns).where(Statement.id.in_(ids)),
                                     select(*columns).where(Statement.voiding_target.in_(ids))))
    wanted, payloads, voided = set(ids), {}, set()
    for row in rows:
        if row.id in wanted:
            payloads[row.id] = row.payload
        if row.voiding_target in wanted:
            voided.add(row.voiding_target)
    return payloads, voided


def get_voiding_flags(session: Session, ids: list[uuid.UUID]
                      ) -> dict[uuid.UUID, tuple[bool, uuid.UUID | None]]:
    """For stored statements among `ids`: whether each is itself a voiding statement, and the
    credential that stored it (None: the host system's own authority)."""
    rows = session.execute(select(Statement.id, Statement.voiding_target, Statement.credential_id)
                           .where(Statement.id.in_(ids)))
    return {row.id: (row.voiding_target is not None, row.credential_id) for row in rows}


def get_late_voiders(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID | None]:
    """For the `ids` a stored voiding statement points at: the credential that stored it."""
    rows = session.execute(select(Statement.voiding_target, Statement.credential_id)
                           .where(Statement.voiding_target.in_(ids)))
    return {row.voiding_target: row.credential_id for row in rows}


def get_statement(session: Session, ident: uuid.UUID) -> Statement | None:
    """One statement by id, voided or not."""
    return session.scalar(select(Statement).where(Statement.id == ident))


def _link_filters(query: StatementQuery) -> list[tuple]:
    """(link column, wanted value, link table, related) for the agent/activity filters."""
    found = []
    if query.agent is not None:
        found.append((StatementAgent.ifi, query.agent, StatementAgent, query.related_agents))
    if query.activity is not None:
        found.append((StatementActivity.iri, query.activity, StatementActivity,
                      query.related_activities))
    return found


def _link_condition(link, column, value, related: bool) -> list:
    conditions = [column == value]
    if not related:
        conditions.append(link.direct.is_(True))
    return conditions


def _target_conditions(table, query: StatementQuery, skip_link: bool = False) -> list:
    """The agent/verb/activity/registration conditions on `table` (an alias).

    With `skip_link` the first agent/activity filter is left out (the caller drives the
    query from that link table instead).
    """
    conditions = []
    for index, (column, value, link, related) in enumerate(_link_filters(query)):
        if skip_link and index == 0:
            continue
        conditions.append(exists().where(link.statement_pk == table.pk,
                                         *_link_condition(link, column, value, related)))
    if query.verb is not None:
        conditions.append(table.verb_iri == query.verb)
    if query.registration is not None:
        conditions.append(table.registration == query.registration)
    return conditions


def _key_bound(stored_condition, newest: bool):
    """The first (or, `newest`, last) key among the statements with the earliest (latest)
    `stored` meeting `stored_condition`: two seeks in the `stored` index."""
    edge, keys = aliased(Statement), aliased(Statement)
    stored = (select(edge.stored).where(stored_condition(edge.stored))
              .order_by(edge.stored.desc() if newest else edge.stored).limit(1)
              .scalar_subquery())
    pick = func.max if newest else func.min
    return select(pick(keys.pk)).where(keys.stored == stored).scalar_subquery()


def _page_conditions(query: StatementQuery, key) -> list:
    """Conditions on the returned statement itself: not voided, stored window, owner, and
    the cursor (applied to `key`, the column the query is ordered by).

    A page walking from the far end of its time window (`since` ascending, `until`
    descending) also gets that end as a key bound, found in the `stored` index, so the walk
    starts there instead of scanning up to it: keys follow `stored` (`commands.insert_statements`).
    """
    conditions = [Statement.is_voided.is_(False)]
    # With a key bound, the stored condition only filters: kept off the stored index.
    stored = unindexed(Statement.stored)
    if query.since is not None:
        if query.ascending:
            conditions += [stored > query.since,
                           key >= _key_bound(lambda c: c > query.since, newest=False)]
        else:
            conditions.append(Statement.stored > query.since)
    if query.until is not None:
        if not query.ascending:
            conditions += [stored <= query.until,
                           key <= _key_bound(lambda c: c <= query.until, newest=True)]
        else:
            conditions.append(Statement.stored <= query.until)
    if query.credential_id is not None:
        conditions.append(Statement.credential_id == query.credential_id)
    if query.after_pk is not None:
        conditions.append(key > query.after_pk if query.ascending else key < query.after_pk)
    return conditions


def _direct_branch(query: StatementQuery, size: int):
    """Statements that meet the filters themselves, newest (or oldest) first.

    With an agent or activity filter the scan is driven by that link table's
    (value, statement_pk) index, so it stops after `size` hits however common the value is.
    """
    links = _link_filters(query)
    if not links:
        order = Statement.pk.asc() if query.ascending else Statement.pk.desc()
        return (select(Statement.pk.label("pk"))
                .where(*_target_conditions(Statement, query),
                       *_page_conditions(query, Statement.pk))
                .order_by(order).limit(size))
    column, value, link, related = links[0]
    order = link.statement_pk.asc() if query.ascending else link.statement_pk.desc()
    conditions = _link_condition(link, column, value, related)
    if link is StatementAgent and query.verb is not None:
        # Served by the (ifi, verb_iri, statement_pk) index of the agent links.
        conditions.append(link.verb_iri == query.verb)
    return (select(link.statement_pk.label("pk"))
            .join(Statement, Statement.pk == link.statement_pk)
            .where(*conditions,
                   *_target_conditions(Statement, query, skip_link=True),
                   *_page_conditions(query, link.statement_pk))
            .order_by(order).limit(size))


def find_statements(session: Session, query: StatementQuery) -> list[tuple[int, str]]:
    """(pk, payload as JSON text) of the non-voided statements matching `query`, in storage
    order (the text as stored, so a page can be answered without parsing it).

    Returns up to `limit + 1` rows so the caller knows whether a further page exists.
    Following the spec's StatementRef rule, a statement whose StatementRef object targets a
    statement that meets the agent/verb/activity/registration filters matches too (one level
    deep); that part is a separate, separately limited branch so the main branch keeps its
    index order.
    """
    order = Statement.pk.asc() if query.ascending else Statement.pk.desc()
    size = query.limit + 1
    direct = _direct_branch(query, size)
    if not (_link_filters(query) or query.verb is not None or query.registration is not None):
        pks = direct.subquery()
    else:
        target = aliased(Statement)
        # Driven by the (few) statements that reference another, through a partial index.
        via_ref = (select(Statement.pk.label("pk"))
                   .join(target, target.id == Statement.ref_target)
                   .where(Statement.ref_target.is_not(None),
                          *_target_conditions(target, query),
                          *_page_conditions(query, Statement.pk))
                   .order_by(order).limit(size).subquery())
        pks = union(select(direct.subquery().c.pk), select(via_ref.c.pk)).subquery()
    stmt = (select(Statement.pk, cast(Statement.payload, Text).label("payload"))
            .where(Statement.pk.in_(select(pks.c.pk))).order_by(order).limit(size))
    return [(row.pk, row.payload) for row in session.execute(stmt)]


def get_cursor(session: Session, key: str) -> Cursor | None:
    """The stored parameters of a long query, by their key."""
    return session.get(Cursor, key)


def get_attachments(session: Session, sha2s: set[str]) -> dict[str, tuple[str, bytes]]:
    """Attachment (content type, bytes) by SHA-2, for those stored."""
    if not sha2s:
        return {}
    rows = session.execute(select(Attachment).where(Attachment.sha2.in_(sha2s))).scalars()
    return {row.sha2: (row.content_type, row.content) for row in rows}


def get_definitions(session: Session, iris: list[str]) -> dict[str, dict]:
    """Stored activity definitions by IRI, for those stored."""
    return dict(session.execute(select(Activity.iri, Activity.definition)
                                .where(Activity.iri.in_(iris))).all())


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

