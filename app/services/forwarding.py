"""Forwarding SkillTrace's own statements to an external LRS (issue 6, scheduler bullet).

`enqueue` puts a statement in the outbox in the writer's transaction (``xapi_records.record``
calls it when ``XAPI_FORWARD_URL`` is set). `forward_pending`, run by the scheduler, claims due
rows in a short transaction — ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the ``BEGIN IMMEDIATE``
write lock on SQLite — so two forwarders never take the same row; it sends the batch with
TinCanPython's ``RemoteLRS`` (one POST, statements with their ids) outside any transaction, then
marks the rows sent or records the error and the next attempt time (exponential backoff).
A forwarder that dies mid-send leaves a claim whose lease runs out; the resend carries the same
ids, which the receiving LRS stores once.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import tincan
from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import ForwardedStatement
from app.models.base import utcnow
from app.services._tx import transaction
from lrs.storage.tables import Statement

#: Properties the receiving LRS sets itself.
_LRS_SET = ("stored", "authority", "version")


@dataclass(frozen=True)
class ForwardResult:
    """What one `forward_pending` run did."""

    sent: int = 0
    failed: int = 0
    error: str = ""


def is_enabled() -> bool:
    return bool(current_app.config.get("XAPI_FORWARD_URL"))


def enqueue(session: Session, statement_id: uuid.UUID) -> None:
    """Queue a statement for forwarding in the caller's transaction."""
    session.add(ForwardedStatement(statement_id=statement_id, next_attempt_at=utcnow()))


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failures: base × 2^(attempts−1), capped."""
    cfg = current_app.config
    seconds = cfg["XAPI_FORWARD_BACKOFF_SECONDS"] * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(seconds, cfg["XAPI_FORWARD_MAX_BACKOFF_SECONDS"]))


def _claim(now: datetime, limit: int) -> tuple[str, list[tuple[uuid.UUID, uuid.UUID]]]:
    """Claim up to ``limit`` due rows; returns the claim token and (row id, statement id) pairs."""
    token = str(uuid.uuid4())
    lease = timedelta(seconds=current_app.config["XAPI_FORWARD_LEASE_SECONDS"])
    with transaction() as session:
        rows = session.scalars(
            select(ForwardedStatement)
            .where(ForwardedStatement.sent_at.is_(None), ForwardedStatement.next_attempt_at <= now,
                   or_(ForwardedStatement.claimed_until.is_(None), ForwardedStatement.claimed_until < now))
            .order_by(ForwardedStatement.next_attempt_at, ForwardedStatement.queued_at).limit(limit)
            .with_for_update(skip_locked=True)).all()
        for row in rows:
            row.claim_token, row.claimed_until = token, now + lease
        return token, [(row.id, row.statement_id) for row in rows]


def _payloads(statement_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict]:
    """The statements as the LRS stored them, without the properties an LRS sets itself."""
    stored = db.session.execute(select(Statement.id, Statement.payload).where(Statement.id.in_(statement_ids)))
    payloads = {i: {k: v for k, v in payload.items() if k not in _LRS_SET} for i, payload in stored}
    db.session.rollback()
    return payloads


def _send(statements: list[dict]) -> str:
    """POST the batch; "" when the receiver accepted it, else the error."""
    cfg = current_app.config
    remote = tincan.RemoteLRS(endpoint=cfg["XAPI_FORWARD_URL"], version="1.0.3",
                              username=cfg["XAPI_FORWARD_KEY"], password=cfg["XAPI_FORWARD_SECRET"])
    try:
        response = remote.save_statements([tincan.Statement(s) for s in statements])
    except OSError as exc:  # refused, reset, timed out, name not resolved
        return f"{type(exc).__name__}: {exc}"
    if response.success:
        return ""
    data = response.data  # tincan decodes it to text
    body = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
    return f"HTTP {response.response.status}: {body[:300]}"


def _settle(token: str, claimed: list[tuple[uuid.UUID, uuid.UUID]], errors: dict, now: datetime) -> None:
    """Mark the claimed rows sent, or record their error (``errors``: statement id → text)."""
    with transaction() as session:
        rows = session.scalars(select(ForwardedStatement).where(
            ForwardedStatement.id.in_([row_id for row_id, _ in claimed]),
            ForwardedStatement.claim_token == token)).all()
        for row in rows:
            row.claim_token, row.claimed_until = None, None
            error = errors.get(row.statement_id, "")
            if error:
                row.attempts += 1
                row.last_error = error
                row.next_attempt_at = now + backoff(row.attempts)
            else:
                row.sent_at = now


def forward_pending(now: datetime | None = None, max_batches: int = 50) -> ForwardResult:
    """Send due statements batch by batch until none is due, a batch fails or ``max_batches``.

    Args:
        now: the time due-ness and backoff are computed from (default: the clock).
    """
    if not is_enabled():
        return ForwardResult()
    sent = 0
    for _ in range(max_batches):
        token, claimed = _claim(now or utcnow(), current_app.config["XAPI_FORWARD_BATCH"])
        if not claimed:
            break
        payloads = _payloads([statement_id for _, statement_id in claimed])
        errors = {sid: "statement missing from the LRS" for _, sid in claimed if sid not in payloads}
        error = _send(list(payloads.values())) if payloads else ""
        errors.update({sid: error for sid in payloads} if error else {})
        _settle(token, claimed, errors, now or utcnow())
        if error:
            return ForwardResult(sent=sent, failed=len(claimed), error=error)
        sent += len(claimed) - len(errors)
    return ForwardResult(sent=sent)


__all__ = ["ForwardResult", "backoff", "enqueue", "forward_pending", "is_enabled"]
