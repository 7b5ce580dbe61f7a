"""Signed checkpoints of the audit chain, kept where the database owner cannot reach them (R3).

A checkpoint is the chain head (sequence number and hash) with the time and the counts of
records up to that time, signed with an Ed25519 key that lives outside the database
(``CHECKPOINT_KEYS``). Each is appended as one JSON line to ``CHECKPOINT_FILE`` (outside the
database directory), queued as an xAPI statement to the external LRS when forwarding is
configured, and its digest is printed on every document the system hands out.

Verification reads every checkpoint and names the first one the database no longer matches:
the entry it signed is gone (a cut tail) or has another hash (a rewrite, even with recomputed
hashes), audit entries after it claim earlier times (an extension back-dated behind it), or
fewer records of a table are dated up to its time than it counted (records deleted).
"""
from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import AuditEntry, FaceVerification, HoursEntry, PresenceInterval
from app.models.base import utcnow
from app.services import forwarding, xapi_records
from app.services._tx import transaction
from app.services.audit import GENESIS, canonical_json, configured_keys, lock_chain, sha256_hex
from app.services.sentences import N_, Code, Sentence, instant, say
from lrs.storage.tables import Statement

#: The tables a checkpoint counts, each by the column that dates its rows.
COUNTED = {"hours_ledger": HoursEntry.at, "presence_intervals": PresenceInterval.opened_at,
           "face_verifications": FaceVerification.at, "lrs_statements": Statement.stored}
#: The counted tables in words (the pages; the CLI names the table).
_TABLE_WORDS = {"hours_ledger": N_("Hours ledger"), "presence_intervals": N_("presence intervals"),
                "face_verifications": N_("face checks"), "lrs_statements": N_("LRS statements")}


@dataclass(frozen=True)
class Checkpoint:
    """One signed checkpoint, as kept in the file: ``body`` and its ``signature``."""

    body: dict
    signature: str

    @property
    def seq(self) -> int:
        return self.body["seq"]

    @property
    def at(self) -> datetime:
        return datetime.fromisoformat(self.body["at"])

    @property
    def digest(self) -> str:
        """What documents carry: the SHA-256 of the signed line."""
        return sha256_hex(self.line())

    def line(self) -> str:
        return canonical_json({"body": self.body, "signature": self.signature})

    def label(self) -> str:
        """Which checkpoint, in English."""
        return str(self.named())

    def named(self) -> Sentence:
        """Which checkpoint, as a sentence."""
        return say(N_("checkpoint of %(at)s (audit entry %(seq)s)"), at=instant(self.body["at"]), seq=self.seq)


def signing_keys() -> tuple[dict[str, Ed25519PrivateKey], str]:
    """The checkpoint keys by id and the id new checkpoints are signed with."""
    seeds, current = configured_keys("CHECKPOINT")
    return {kid: Ed25519PrivateKey.from_private_bytes(seed) for kid, seed in seeds.items()}, current


def public_keys() -> dict[str, str]:
    """The public keys (base64, raw 32 bytes) by id: what an auditor verifies signatures with."""
    return {kid: base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
            for kid, key in signing_keys()[0].items()}


def checkpoint_path(path: str | Path | None = None) -> Path:
    return Path(path or current_app.config["CHECKPOINT_FILE"])


def _head_and_counts(session: Session, at: datetime) -> dict:
    """The chain head and the counts of records dated up to ``at``, read in one statement (one
    snapshot)."""
    last = select(func.max(AuditEntry.seq)).scalar_subquery()
    columns = [last.label("seq"), select(AuditEntry.hash).where(AuditEntry.seq == last).scalar_subquery().label("hash")]
    columns += [select(func.count()).where(column <= at).scalar_subquery().label(name)
                for name, column in COUNTED.items()]
    row = session.execute(select(*columns)).one()
    return {"seq": row.seq or 0, "hash": row.hash or GENESIS,
            "counts": {name: int(getattr(row, name)) for name in COUNTED}}


def _append(path: Path, line: str) -> None:
    """Append one line and flush it to disk (the file is only ever appended to)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, (line + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def create_checkpoint(path: str | Path | None = None) -> Checkpoint:
    """Sign the chain head now, append it to the checkpoint file and, when an external LRS is
    configured, queue it there as a statement (the scheduler's job; `flask audit checkpoint
    create`)."""
    keys, kid = signing_keys()
    with transaction() as session:
        # no append in flight: one that began before `at` would land after the head read here,
        # dated before the checkpoint (and be named as added behind it)
        lock_chain(session)
        at = utcnow()
        body = {"v": 1, "kid": kid, "at": at.isoformat(), **_head_and_counts(session, at)}
        checkpoint = Checkpoint(body, base64.b64encode(keys[kid].sign(canonical_json(body).encode())).decode())
        _append(checkpoint_path(path), checkpoint.line())
        if forwarding.is_enabled():
            xapi_records.record(session, "checkpointed", xapi_records.authority(), at=at,
                                object_={"objectType": "Activity",
                                         "id": f"{current_app.config['XAPI_HOMEPAGE'].rstrip('/')}/audit"},
                                extensions={"checkpoint": {**body, "signature": checkpoint.signature,
                                                           "digest": checkpoint.digest}})
    return checkpoint


def read_checkpoints(path: str | Path | None = None) -> tuple[list[Checkpoint], list[Sentence]]:
    """The checkpoints in the file whose signature verifies, and a sentence for each line that
    does not (edited, or not a checkpoint at all). A missing file holds none."""
    file = checkpoint_path(path)
    if not file.exists():
        return [], []
    keys = {kid: key.public_key() for kid, key in signing_keys()[0].items()}
    good, bad = [], []
    for number, text in enumerate(file.read_text("utf-8").splitlines(), 1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
            checkpoint = Checkpoint(record["body"], record["signature"])
            key: Ed25519PublicKey | None = keys.get(checkpoint.body.get("kid"))
            if key is None:
                bad.append(say(N_("%(file)s line %(number)s: signed with key %(key)s, which is not configured"),
                               file=file, number=number, key=repr(checkpoint.body.get("kid"))))
                continue
            key.verify(base64.b64decode(checkpoint.signature), canonical_json(checkpoint.body).encode())
        except (ValueError, KeyError, TypeError, InvalidSignature):
            bad.append(say(N_("%(file)s line %(number)s: not a checkpoint with a valid signature (the file was "
                              "edited)"), file=file, number=number))
            continue
        good.append(checkpoint)
    return good, bad


def latest_checkpoint(path: str | Path | None = None) -> Checkpoint | None:
    checkpoints, _bad = read_checkpoints(path)
    return checkpoints[-1] if checkpoints else None


def _contradictions(session: Session, checkpoint: Checkpoint, last_seq: int, latest: bool) -> list[Sentence]:
    """How the database contradicts one checkpoint (empty when it still matches). The latest
    checkpoint is also checked for entries back-dated behind it and for deleted records (its
    counts include every earlier checkpoint's records)."""
    problems = []
    signed = session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == checkpoint.seq))
    if checkpoint.seq > 0 and signed is None:
        problems.append(say(N_("audit entry %(seq)s is gone (the log now ends at %(last)s): its tail was cut"),
                            seq=checkpoint.seq, last=last_seq) if last_seq < checkpoint.seq
                        else say(N_("audit entry %(seq)s is gone"), seq=checkpoint.seq))
    elif checkpoint.seq > 0 and signed != checkpoint.body["hash"]:
        problems.append(say(N_("audit entry %(seq)s has another hash than was signed: the chain was rewritten"),
                            seq=checkpoint.seq))
    if not latest:
        return problems
    backdated = session.scalar(select(func.count()).where(AuditEntry.seq > checkpoint.seq,
                                                          AuditEntry.at < checkpoint.at))
    if backdated:
        problems.append(say(N_("%(n)s audit entries after entry %(seq)s are dated before the checkpoint: "
                               "entries were added behind it"), n=backdated, seq=checkpoint.seq))
    now = _head_and_counts(session, checkpoint.at)["counts"]
    for table, counted in checkpoint.body["counts"].items():
        if now.get(table, 0) < counted:
            problems.append(say(N_("%(table)s: %(gone)s of the %(n)s records dated up to it are gone"),
                                table=Code(table, say(_TABLE_WORDS.get(table, table))),
                                gone=counted - now.get(table, 0), n=counted))
    return problems


def verify_checkpoints(session: Session, path: str | Path | None = None) -> tuple[int, list[Sentence]]:
    """(how many checkpoints were checked, one sentence per problem): lines whose signature does
    not verify, and every checkpoint the database contradicts, the first one first."""
    checkpoints, problems = read_checkpoints(path)
    last_seq = session.scalar(select(func.max(AuditEntry.seq))) or 0
    for number, checkpoint in enumerate(checkpoints, 1):
        contradictions = _contradictions(session, checkpoint, last_seq, number == len(checkpoints))
        problems += [say(N_("%(checkpoint)s: %(problem)s"), checkpoint=checkpoint.named(), problem=p)
                     for p in contradictions]
    return len(checkpoints), problems
