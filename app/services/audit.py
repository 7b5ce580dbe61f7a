"""The keyed, hash-chained audit log (R3): append an entry in the caller's transaction, verify
the chain.

Entry hash = HMAC-SHA256, under the chain key named by the entry's ``key_id``, of the canonical
JSON of (seq, time, actor, action, object, payload digest, previous hash, key id). The keys live
outside the database (``AUDIT_CHAIN_KEYS``: ``instance/audit_chain_keys`` in development, the
environment in production), so write access to the database alone cannot append or rewrite an
entry that verifies. Entries written before the chain was keyed (``key_id`` NULL) keep their
plain SHA-256 hash and verify as they are, but only before the first keyed entry: an unkeyed
entry after it is named as one written without the key.

Payload digests are taken over canonical numbers (`canonical_value`), so that what a database's
JSON type hands back (PostgreSQL's JSONB turns ``-0.0`` into ``0``, ``1e300`` into an integer)
digests as what was written.

Appending takes a chain lock first (an advisory transaction lock on PostgreSQL; SQLite's write
transactions are already serialised by ``BEGIN IMMEDIATE``), so concurrent writers queue
instead of forking the chain.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import math
from dataclasses import dataclass
from decimal import Decimal

from flask import current_app
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from recognition.templates import parse_keys

from app.models import AuditEntry, User
from app.models.base import utcnow
from app.services.sentences import N_, Sentence, say

GENESIS = "0" * 64
_CHAIN_LOCK_KEY = 0x5354_4155_4449_54  # "STAUDIT": one advisory lock for the whole chain


def canonical_value(value):
    """``value`` as JSON with canonical numbers: a float with an integral value becomes that
    integer (``-0.0`` → ``0``, ``1e300`` → the integer its shortest decimal spells), other floats
    stay as they are; dates, UUIDs and decimals become strings. Every supported database hands
    such a value back unchanged in value, so it digests the same after the round trip.

    :raise ValueError: a NaN or an infinity (no JSON number holds them).
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a JSON number")
        exact = Decimal(repr(value))  # the shortest decimal: what a database's JSON type keeps
        return int(exact) if exact == exact.to_integral_value() else value
    if isinstance(value, dict):
        return {str(k): canonical_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical_value(v) for v in value]
    return str(value)


def canonical_json(value) -> str:
    """Stable JSON: sorted keys, no spaces, UTF-8 kept, canonical numbers (`canonical_value`)."""
    return json.dumps(canonical_value(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _legacy_json(value) -> str:
    """The canonical JSON of entries written before canonical numbers (``key_id`` NULL)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256_hex(data: str) -> str:
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def configured_keys(setting: str) -> tuple[dict[str, bytes], str]:
    """The keys of ``<setting>_KEYS`` by id and the id new material uses (``<setting>_KEY_ID``;
    the only key when no id is set). Shared by the audit chain and the signed checkpoints."""
    try:
        keys = parse_keys(current_app.config[f"{setting}_KEYS"] or "")
    except ValueError as exc:
        raise RuntimeError(f"SKILLTRACE_{setting}_KEYS: {exc}") from None
    current = current_app.config.get(f"{setting}_KEY_ID") or (next(iter(keys)) if len(keys) == 1 else None)
    if current not in keys:
        raise RuntimeError(f"SKILLTRACE_{setting}_KEY_ID must name one of SKILLTRACE_{setting}_KEYS")
    return keys, current


def chain_keys() -> tuple[dict[str, bytes], str]:
    """The chain keys by id and the id new entries are keyed with (``AUDIT_CHAIN_KEYS``,
    ``AUDIT_CHAIN_KEY_ID``)."""
    return configured_keys("AUDIT_CHAIN")


def entry_hash(entry: AuditEntry, keys: dict[str, bytes] | None = None) -> str | None:
    """The hash an entry must carry, recomputed from its fields: an HMAC under its chain key
    (None when that key is not configured), or a plain SHA-256 for an entry written before the
    chain was keyed."""
    fields = {"seq": entry.seq, "at": entry.at.isoformat(), "actor_id": entry.actor_id,
              "actor": entry.actor, "action": entry.action, "object_type": entry.object_type,
              "object_id": entry.object_id, "payload_digest": entry.payload_digest,
              "prev_hash": entry.prev_hash}
    if entry.key_id is None:
        return sha256_hex(_legacy_json(fields))
    key = (keys if keys is not None else chain_keys()[0]).get(entry.key_id)
    if key is None:
        return None
    message = canonical_json({**fields, "key_id": entry.key_id}).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def payload_matches(entry: AuditEntry) -> bool:
    """Whether the entry's payload still matches its digest (an unkeyed entry's digest may be
    over the JSON of its time, before canonical numbers)."""
    digest = entry.payload_digest
    if sha256_hex(canonical_json(entry.payload)) == digest:
        return True
    return entry.key_id is None and sha256_hex(_legacy_json(entry.payload)) == digest


def lock_chain(session: Session) -> None:
    """Queue behind any append in flight (PostgreSQL; SQLite's writers are serialised already)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})


def append_audit(session: Session, actor: User | None, action: str, obj, payload: dict,
                 object_type: str | None = None) -> AuditEntry:
    """Append one entry for ``action`` on ``obj`` (a model with an ``id``) in the caller's
    transaction; ``payload`` holds what changed and is kept alongside its digest."""
    keys, key_id = chain_keys()
    lock_chain(session)
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
    payload = canonical_value(payload)
    entry = AuditEntry(key_id=key_id, 
        seq=(last.seq + 1) if last else 1, at=utcnow(),
        actor_id=actor.id if actor else None,
        actor=actor.username if actor else "system",
        action=action, object_type=object_type or type(obj).__tablename__,
        object_id=str(obj.id), payload=payload, payload_digest=sha256_hex(canonical_json(payload)),
        prev_hash=last.hash if last else GENESIS,
    )
    entry.hash = entry_hash(entry, keys)
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainBreak:
    """Where and why the chain does not verify (``said``: in English or the reader's language)."""

    seq: int
    said: Sentence

    @property
    def problem(self) -> str:
        """Why, in English."""
        return str(self.said)


def _link_problem(session: Session, entry: AuditEntry, after_gap: bool) -> Sentence | None:
    """Why ``entry``'s previous-hash link does not match the entry before it (None when it
    points at a missing entry, which the gap already reports)."""
    linked = session.scalar(select(AuditEntry.seq).where(AuditEntry.hash == entry.prev_hash))
    if linked is None:
        return None if after_gap else say(N_("previous-hash link does not match entry %(seq)s"), seq=entry.seq - 1)
    if linked >= entry.seq:
        return say(N_("out of order: it links to entry %(linked)s, which comes after it"), linked=linked)
    return say(N_("out of order: it links to entry %(linked)s, not to entry %(seq)s"), linked=linked,
               seq=entry.seq - 1)


def _gap_problem(last_seq: int, seq: int) -> Sentence:
    if seq == last_seq + 2:
        return say(N_("missing entry between %(last)s and %(seq)s"), last=last_seq, seq=seq)
    return say(N_("missing entries %(first)s–%(end)s between %(last)s and %(seq)s"), first=last_seq + 1,
               end=seq - 1, last=last_seq, seq=seq)


def _content_problems(entry: AuditEntry, keys: dict[str, bytes], keyed_before: bool) -> list[Sentence]:
    """What is wrong with the entry itself: its payload against its digest, its hash against
    its content and chain key, and an unkeyed entry after a keyed one."""
    problems = []
    if not payload_matches(entry):
        problems.append(say(N_("payload edited: it does not match its digest")))
    if entry.key_id is None and keyed_before:
        problems.append(say(N_("written without the chain key after the chain was keyed "
                               "(a plain hash anyone with the database can compute)")))
    expected = entry_hash(entry, keys)
    if expected is None:
        problems.append(say(N_("keyed with chain key %(key)s, which is not configured"), key=repr(entry.key_id)))
    elif expected != entry.hash:
        # (or it was fabricated without the chain key: the two look alike)
        problems.append(say(N_("hash mismatch: the entry's content was altered")))
    return problems


def verify_chain(session: Session) -> list[ChainBreak]:
    """Recompute the chain in order; an empty list means it is intact.

    Each break names the entry and what is wrong: a gap in the sequence (a deleted entry), a
    previous-hash link pointing elsewhere (entries reordered), a payload that no longer matches
    its digest, content that no longer matches the entry's keyed hash (altered, or fabricated
    without the chain key), or an unkeyed entry after the chain was keyed.
    """
    keys = chain_keys()[0]
    breaks, prev, last_seq, keyed = [], GENESIS, 0, False
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).yield_per(1000):
        gap = entry.seq != last_seq + 1
        if gap:
            breaks.append(ChainBreak(entry.seq, _gap_problem(last_seq, entry.seq)))
        if entry.prev_hash != prev and (problem := _link_problem(session, entry, gap)):
            breaks.append(ChainBreak(entry.seq, problem))
        breaks += [ChainBreak(entry.seq, p) for p in _content_problems(entry, keys, keyed)]
        prev, last_seq, keyed = entry.hash, entry.seq, keyed or entry.key_id is not None
    return breaks


def verify_entries(session: Session, seqs) -> list[ChainBreak]:
    """Check chosen entries where they sit, without recomputing the whole chain: each one's
    payload digest and hash, its link to the entry before it and the next entry's link to it.

    ``verify_chain`` is the full check; this one serves per-object views (a learner's trace).
    """
    keys = chain_keys()[0]
    seqs = sorted(set(seqs))
    around = {s + d for s in seqs for d in (-1, 0, 1)}
    entries = {e.seq: e for e in session.scalars(select(AuditEntry).where(AuditEntry.seq.in_(around)))}
    first_keyed = session.scalar(select(AuditEntry.seq).where(AuditEntry.key_id.is_not(None))
                                 .order_by(AuditEntry.seq).limit(1))
    breaks = []
    for seq in seqs:
        entry, before, after = entries[seq], entries.get(seq - 1), entries.get(seq + 1)
        expected_prev = GENESIS if seq == 1 else (before.hash if before else None)
        if seq > 1 and before is None:
            breaks.append(ChainBreak(seq, say(N_("missing entry %(seq)s before it"), seq=seq - 1)))
        elif entry.prev_hash != expected_prev and (problem := _link_problem(session, entry, False)):
            breaks.append(ChainBreak(seq, problem))
        keyed_before = first_keyed is not None and first_keyed < seq
        breaks += [ChainBreak(seq, p) for p in _content_problems(entry, keys, keyed_before)]
        if after is not None and after.prev_hash != entry.hash and seq + 1 not in seqs:
            breaks.append(ChainBreak(seq + 1, say(N_("previous-hash link does not match entry %(seq)s"), seq=seq)))
    return breaks
