"""The checkpoint stamp every document SkillTrace hands out carries (R3): the digest of the latest
signed checkpoint, as text (``SkillTrace checkpoint <digest>``) and as a QR code, so that an
auditor holding a printed or exported trace, claim or certificate can check it against the
system (`check_document`, `flask audit checkpoint verify-document FILE`).
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from reportlab.graphics.barcode import qrencoder
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from sqlalchemy.orm import Session

from app.services.checkpoints import latest_checkpoint, read_checkpoints
from app.services.integrity import check_integrity

MARK = "SkillTrace checkpoint"
NONE_YET = "none yet"
_STAMP = re.compile(rf"{MARK} ([0-9a-f]{{64}})")


def current_stamp() -> str:
    """``SkillTrace checkpoint <digest of the latest checkpoint>`` (or ``… none yet``)."""
    checkpoint = latest_checkpoint()
    return f"{MARK} {checkpoint.digest if checkpoint else NONE_YET}"


def qr_drawing(text: str, size: float) -> Drawing:
    """A QR code of ``text``, ``size`` points square (a reportlab flowable)."""
    widget = QrCodeWidget(text)
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def qr_svg(text: str, size: int = 96) -> str:
    """The QR code of ``text`` as an inline SVG element for HTML pages such as certificates
    (attributes only, no ``style``: the pages' content security policy allows no inline style)."""
    qr = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    qr.addData(text)
    qr.make()
    count, quiet = qr.getModuleCount(), 4
    path = "".join(f"M{column + quiet} {row + quiet}h1v1h-1z" for row in range(count)
                   for column in range(count) if qr.isDark(row, column))
    side = count + 2 * quiet
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="checkpoint-qr" width="{size}" height="{size}" '
            f'viewBox="0 0 {side} {side}"><rect width="{side}" height="{side}" fill="#fff"/>'
            f'<path d="{path}" fill="#000"/></svg>')


def _text_of(data: bytes) -> str:
    """The searchable text of a document: a zip's (an .xlsx's) entries, else the bytes."""
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            return "\n".join(book.read(name).decode("utf-8", "replace") for name in book.namelist())
    return data.decode("utf-8", "replace")


@dataclass(frozen=True)
class DocumentCheck:
    """What checking a document found: its digest and why it fails (empty when it verifies)."""

    digest: str | None
    problems: list[str]


def check_document(session: Session, data: bytes) -> DocumentCheck:
    """Check an exported document against the system: its stamp names a checkpoint in the
    checkpoint file, the database still matches that checkpoint and those after it, and the
    audit chain and the records verify."""
    found = _STAMP.search(_text_of(data))
    if found is None:
        return DocumentCheck(None, [f"no '{MARK}' stamp with a digest in the document"])
    digest = found.group(1)
    if not any(checkpoint.digest == digest for checkpoint in read_checkpoints()[0]):
        return DocumentCheck(digest, [f"checkpoint {digest} is not among the signed checkpoints"])
    return DocumentCheck(digest, [p.message for p in check_integrity(session).problems])
