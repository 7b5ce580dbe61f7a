"""Raw face images kept for a while, only when configured (PIPL art. 28–30, the 2025 face rules).

By default nothing is kept: ``FACE_IMAGE_RETENTION_DAYS = 0``. Set to N > 0, the frames of each
verification are written under ``FACE_IMAGE_DIR`` (``instance/face_images``), one file per frame,
sealed with AES-256-GCM under a key derived (HKDF) from the current template key, and deleted by
the scheduler's ``purge_face_images`` job once older than N days (an audit entry says how many,
per trainee), or at once when the trainee withdraws consent. File names carry only UUIDs and the capture time:
``<trainee_id>/<unix seconds>-<verification_id>-<n>.img``.
"""
from __future__ import annotations

import os
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

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


def retain(trainee_id: uuid.UUID | None, verification_id: uuid.UUID | None, frames: Sequence[bytes]) -> int:
    """Keep the frames of one verification, sealed, when retention is on; returns files written."""
    if retention_days() <= 0 or trainee_id is None or verification_id is None:
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


def purge_expired(now: float | None = None, keep: frozenset[str] = frozenset()) -> int:
    """Delete kept images older than the retention period (all of them when retention is 0) and
    record in the audit log how many went, per trainee (PIPL art. 47: deletion is traceable).
    Frames of the verifications in ``keep`` (ids as text: the evidence of held hours not yet
    decided) stay until the decision. Returns how many files were deleted."""
    root = image_dir()
    if not root.is_dir():
        return 0
    cutoff = (now or time.time()) - retention_days() * 86400
    purged: Counter = Counter()
    for path in root.glob("*/*.img"):
        stamp, _sep, rest = path.name.partition("-")
        if rest[:36] in keep:
            continue
        if not stamp.isdigit() or int(stamp) <= cutoff:
            path.unlink(missing_ok=True)
            purged[path.parent.name] += 1
    for folder in root.iterdir():
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    if purged:
        with transaction() as session:
            append_audit(session, None, "face_images.purged", SimpleNamespace(id=uuid.uuid4()), {
                "files": purged.total(), "retention_days": retention_days(), "by_trainee": dict(purged)},
                object_type="face_images")
    return purged.total()
