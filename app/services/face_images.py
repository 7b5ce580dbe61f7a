"""Raw face images kept for a while, only when configured or as evidence of held hours (PIPL
art. 28–30, the 2025 face rules).

By default nothing is kept: ``FACE_IMAGE_RETENTION_DAYS = 0``. Set to N > 0, the frames of each
verification are written under ``FACE_IMAGE_DIR`` (``instance/face_images``), one file per frame,
sealed with AES-256-GCM under a key derived (HKDF) from the current template key, and deleted by
the scheduler's ``purge_face_images`` job once older than N days (an audit entry says how many,
per trainee), or at once when the trainee withdraws consent or the PIPL purge deletes the
trainee's templates. File names carry only UUIDs and the capture time:
``<trainee_id>/<unix seconds>-<verification_id>-<n>.img``.

Whatever N, the frames of a check whose result is held for an instructor's review
(``retain(..., held=True)``: the evidence of held hours, `app.services.held_hours`) are written
and kept until the instructor decides; then they go at once unless the retention period still
covers them (`forget_decided`, audited like the purge). Until a check is recorded its frames
wait sealed in its challenge row (``check_in_challenges.kept_frames``), cleared when the check
uses it, or by the purge job once it expired unused, or at once on consent withdrawal
(`clear_stale_buffers`).
"""
from __future__ import annotations

import os
import shutil
import time
import uuid
from datetime import datetime
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import or_, update

from app.models import CheckInChallenge
from app.models.base import utcnow
from app.services._tx import transaction
from app.services.audit import append_audit
from recognition import parse_keys

MAGIC = b"STIMG1"
_INFO = b"skilltrace face images v1"


def retention_days() -> int:
    return int(current_app.config.get("FACE_IMAGE_RETENTION_DAYS") or 0)


def image_dir() -> Path:
    return Path(current_app.config.get("FACE_IMAGE_DIR") or Path(current_app.instance_path) / "face_images")


def _key(key_id: str) -> AESGCM:
    keys = parse_keys(current_app.config["TEMPLATE_KEYS"])
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO)
    return AESGCM(hkdf.derive(keys[key_id]))


def _current_key_id() -> str:
    return current_app.config.get("TEMPLATE_KEY_ID") or next(iter(parse_keys(current_app.config["TEMPLATE_KEYS"])))


def seal(data: bytes, name: str) -> bytes:
    """Encrypt ``data``; the file ``name`` is bound in as associated data (no swapping files)."""
    kid = _current_key_id().encode("ascii")
    prefix = MAGIC + bytes([len(kid)]) + kid
    nonce = os.urandom(12)
    return prefix + nonce + _key(kid.decode()).encrypt(nonce, data, prefix + name.encode())


def unseal(token: bytes, name: str) -> bytes:
    """Decrypt a file written by `seal` (for an audited look by an administrator, and the tests)."""
    n = token[len(MAGIC)]
    start = len(MAGIC) + 1 + n
    kid = token[len(MAGIC) + 1:start].decode("ascii")
    return _key(kid).decrypt(token[start:start + 12], token[start + 12:], token[:start] + name.encode())


def retain(trainee_id: uuid.UUID | None, verification_id: uuid.UUID | None, frames: Sequence[bytes],
           held: bool = False) -> int:
    """Keep the frames of one verification, sealed, when retention is on or the check is ``held``
    evidence (its hours wait for an instructor); returns files written."""
    if (retention_days() <= 0 and not held) or trainee_id is None or verification_id is None:
        return 0
    folder = image_dir() / str(uuid.UUID(str(trainee_id)))
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = int(time.time())
    for n, frame in enumerate(frames):
        name = f"{stamp}-{uuid.UUID(str(verification_id))}-{n}.img"
        fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(seal(frame, name))
    return len(frames)


def kept(trainee_id, verification_id) -> list[bytes]:
    """The frames kept for one verification, unsealed, in capture order (none when retention is
    off or they were purged)."""
    folder = image_dir() / str(uuid.UUID(str(trainee_id)))
    marker = f"-{uuid.UUID(str(verification_id))}-"
    paths = [p for p in folder.glob(f"*{marker}*.img")] if folder.is_dir() else []
    paths.sort(key=lambda p: int(p.stem.rsplit("-", 1)[-1]))
    return [unseal(p.read_bytes(), p.name) for p in paths]


def delete_trainee_images(trainee_id) -> int:
    """Delete every kept image of a trainee (consent withdrawn); returns how many."""
    folder = image_dir() / str(uuid.UUID(str(trainee_id)))
    if not folder.is_dir():
        return 0
    count = sum(1 for _ in folder.glob("*.img"))
    shutil.rmtree(folder)
    return count


def _purge(paths, cutoff: float, keep: frozenset[str]) -> Counter:
    """Delete the files among ``paths`` written at or before ``cutoff`` whose verification is not
    in ``keep``; how many went, per trainee folder."""
    purged: Counter = Counter()
    for path in paths:
        stamp, _sep, rest = path.name.partition("-")
        if rest[:36] in keep:
            continue
        if not stamp.isdigit() or int(stamp) <= cutoff:
            path.unlink(missing_ok=True)
            purged[path.parent.name] += 1
    return purged


def _audit_purged(purged: Counter, **details) -> None:
    """One audit entry for a deletion of kept images (PIPL art. 47: deletion is traceable)."""
    if purged:
        with transaction() as session:
            append_audit(session, None, "face_images.purged", SimpleNamespace(id=uuid.uuid4()), {
                "files": purged.total(), "retention_days": retention_days(), "by_trainee": dict(purged), **details},
                object_type="face_images")


def _remove_empty(folder: Path) -> None:
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


def purge_expired(now: float | None = None, keep: frozenset[str] = frozenset()) -> int:
    """Delete kept images older than the retention period (all of them when retention is 0) and
    record in the audit log how many went, per trainee (PIPL art. 47: deletion is traceable).
    Frames of the verifications in ``keep`` (ids as text: the evidence of held hours not yet
    decided) stay until the decision. Returns how many files were deleted."""
    root = image_dir()
    if not root.is_dir():
        return 0
    purged = _purge(root.glob("*/*.img"), (now or time.time()) - retention_days() * 86400, keep)
    for folder in root.iterdir():
        _remove_empty(folder)
    _audit_purged(purged)
    return purged.total()


def forget_decided(trainee_id, verification_ids, keep: frozenset[str] = frozenset(),
                   now: float | None = None) -> int:
    """After an instructor's decision on held hours: delete the kept frames of its evidence
    ``verification_ids`` that the retention period does not cover (all of them when retention is
    0), except those in ``keep`` (evidence of another item still pending); audited as the purge,
    with ``reason: held_decided``. Returns how many files were deleted."""
    folder = image_dir() / str(uuid.UUID(str(trainee_id)))
    if not folder.is_dir():
        return 0
    wanted = {str(v) for v in verification_ids} - set(keep)
    paths = [p for p in folder.glob("*.img") if p.name.partition("-")[2][:36] in wanted]
    purged = _purge(paths, (now or time.time()) - retention_days() * 86400, frozenset())
    _remove_empty(folder)
    _audit_purged(purged, reason="held_decided", verification_ids=sorted(wanted))
    return purged.total()


def clear_stale_buffers(now: datetime | None = None, trainee_id=None) -> int:
    """Drop the sealed probe and frames held by paced challenges that expired unused (abandoned:
    `face_checks.consume_challenge` clears used ones), or, with ``trainee_id``, by all of that trainee's
    unused challenges, which expire now (consent withdrawn). Returns how many were cleared."""
    now = now or utcnow()
    unused = [CheckInChallenge.used_at.is_(None)]
    with transaction() as session:
        if trainee_id is not None:
            unused.append(CheckInChallenge.trainee_id == trainee_id)
            session.execute(update(CheckInChallenge).where(*unused, CheckInChallenge.expires_at > now)
                            .values(expires_at=now).execution_options(synchronize_session=False))
        return session.execute(update(CheckInChallenge).where(
            *unused, CheckInChallenge.expires_at <= now,
            or_(CheckInChallenge.probe.is_not(None), CheckInChallenge.kept_frames.is_not(None)))
            .values(probe=None, kept_frames=None).execution_options(synchronize_session=False)).rowcount
