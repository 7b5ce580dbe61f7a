"""The hash-chained audit log (R3): append an entry in the caller's transaction, verify the chain.

Entry hash = SHA-256 over the canonical JSON of (seq, time, actor, action, object, payload digest,
previous hash). Appending takes a chain lock first (an advisory transaction lock on PostgreSQL;
SQLite's write transactions are already serialised by ``BEGIN IMMEDIATE``), so concurrent
writers queue instead of forking the chain.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.models import AuditEntry, User
from app.models.base import utcnow

GENESIS = "0" * 64
_CHAIN_LOCK_KEY = 0x5354_4155_4449_54  # "STAUDIT": one advisory lock for the whole chain


def canonical_json(value) -> str:
    """Stable JSON: sorted keys, no spaces, UTF-8 kept, dates and UUIDs as strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256_hex(data: str) -> str:
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def entry_hash(entry: AuditEntry) -> str:
    """The hash an entry must carry, recomputed from its fields."""
    return sha256_hex(canonical_json({
        "seq": entry.seq, "at": entry.at.isoformat(), "actor_id": entry.actor_id,
        "actor": entry.actor, "action": entry.action, "object_type": entry.object_type,
        "object_id": entry.object_id, "payload_digest": entry.payload_digest,
        "prev_hash": entry.prev_hash,
    }))


def _lock_chain(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})


def append_audit(session: Session, actor: User | None, action: str, obj, payload: dict,
                 object_type: str | None = None) -> AuditEntry:
    """Append one entry for ``action`` on ``obj`` (a model with an ``id``) in the caller's
    transaction; ``payload`` holds what changed and is kept alongside its digest."""
    _lock_chain(session)
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
    payload = json.loads(canonical_json(payload))
    entry = AuditEntry(
        seq=(last.seq + 1) if last else 1, at=utcnow(),
        actor_id=actor.id if actor else None,
        actor=actor.username if actor else "system",
        action=action, object_type=object_type or type(obj).__tablename__,
        object_id=str(obj.id), payload=payload, payload_digest=sha256_hex(canonical_json(payload)),
        prev_hash=last.hash if last else GENESIS,
    )
    entry.hash = entry_hash(entry)
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainBreak:
    """Where and why the chain does not verify."""

    seq: int
    problem: str


def _link_problem(session: Session, entry: AuditEntry, after_gap: bool) -> str | None:
    """Why ``entry``'s previous-hash link does not match the entry before it (None when it
    points at a missing entry, which the gap already reports)."""
    linked = session.scalar(select(AuditEntry.seq).where(AuditEntry.hash == entry.prev_hash))
    if linked is None:
        return None if after_gap else f"previous-hash link does not match entry {entry.seq - 1}"
    if linked >= entry.seq:
        return f"out of order: it links to entry {linked}, which comes after it"
    return f"out of order: it links to entry {linked}, not to entry {entry.seq - 1}"


def _gap_problem(last_seq: int, seq: int) -> str:
    if seq == last_seq + 2:
        return f"missing entry between {last_seq} and {seq}"
    return f"missing entries {last_seq + 1}–{seq - 1} between {last_seq} and {seq}"


def verify_chain(session: Session) -> list[ChainBreak]:
    """Recompute the chain in order; an empty list means it is intact.

    Each break names the entry and what is wrong: a gap in the sequence (a deleted entry), a
    previous-hash link pointing elsewhere (entries reordered), a payload that no longer matches
    its digest, or content that no longer matches the entry's hash.
    """
    breaks, prev, last_seq = [], GENESIS, 0
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).yield_per(1000):
        gap = entry.seq != last_seq + 1
        if gap:
            breaks.append(ChainBreak(entry.seq, _gap_problem(last_seq, entry.seq)))
        if entry.prev_hash != prev and (problem := _link_problem(session, entry, gap)):
            breaks.append(ChainBreak(entry.seq, problem))
        if sha256_hex(canonical_json(entry.payload)) != entry.payload_digest:
            breaks.append(ChainBreak(entry.seq, "payload edited: it does not match its digest"))
        if entry_hash(entry) != entry.hash:
            breaks.append(ChainBreak(entry.seq, "hash mismatch: the entry's content was altered"))
        prev, last_seq = entry.hash, entry.seq
    return breaks


def verify_entries(session: Session, seqs) -> list[ChainBreak]:
    """Check chosen entries where they sit, without recomputing the whole chain: each one's
    payload digest and hash, its link to the entry before it and the next entry's link to it.

    ``verify_chain`` is the full check; this one serves per-object views (a learner's trace).
    """
    seqs = sorted(set(seqs))
    around = {s + d for s in seqs for d in (-1, 0, 1)}
    entries = {e.seq: e for e in session.scalars(select(AuditEntry).where(AuditEntry.seq.in_(around)))}
    breaks = []
    for seq in seqs:
        entry, before, after = entries[seq], entries.get(seq - 1), entries.get(seq + 1)
        expected_prev = GENESIS if seq == 1 else (before.hash if before else None)
        if seq > 1 and before is None:
            breaks.append(ChainBreak(seq, f"missing entry {seq - 1} before it"))
        elif entry.prev_hash != expected_prev and (problem := _link_problem(session, entry, False)):
            breaks.append(ChainBreak(seq, problem))
        if sha256_hex(canonical_json(entry.payload)) != entry.payload_digest:
            breaks.append(ChainBreak(seq, "payload edited: it does not match its digest"))
        if entry_hash(entry) != entry.hash:
            breaks.append(ChainBreak(seq, "hash mismatch: the entry's content was altered"))
        if after is not None and after.prev_hash != entry.hash and seq + 1 not in seqs:
            breaks.append(ChainBreak(seq + 1, f"previous-hash link does not match entry {seq}"))
    return breaks
