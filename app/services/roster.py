"""Roster import from CSV or Excel: every row validated, refused rows reported with the reason,
the rest registered (when new) and enrolled in one transaction; importing the same file twice
adds nothing."""
from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import select

from app.errors.exceptions import ValidationError
from app.models import PERSON_CATEGORIES, Enrolment, Trainee, User
from app.services._tx import transaction
from app.services.audit import append_audit
from app.services.classes import get_open_application
from app.services.registry import TraineeInput, add_trainee, validate_trainee
from app.services.resident_id import normalise_id_number

MAX_ROWS = 5000
MAX_LINES = 2 * MAX_ROWS          # lines read at most, blank ones included
MAX_COLUMNS = 64                  # columns read of each row
MAX_BYTES = 10 * 1024 * 1024
MAX_XLSX_UNPACKED = 20 * 1024 * 1024   # a 5,000-row roster unpacks to a few MB
# Accepted headings for each field, Chinese as offices write them, or English.
COLUMNS = {
    "name": ("姓名", "name"),
    "id_number": ("身份证号", "身份证号码", "id_number"),
    "phone": ("手机号", "手机号码", "联系电话", "phone"),
    "category": ("人员类别", "category"),
    "employer": ("工作单位", "employer"),
}
REQUIRED = ("name", "id_number", "phone", "category")
NUMERIC_ID = "id_number_numeric"   # set on a row whose ID cell was stored as a number
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")


@dataclass
class ImportReport:
    """What an import did: rows read, trainees registered and enrolled, rows refused and why."""

    rows: int = 0
    registered: int = 0
    enrolled: int = 0
    already_enrolled: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)


def read_rows(filename: str, data: bytes) -> list[dict[str, str]]:
    """The rows of a .csv (UTF-8, with or without BOM, or GB18030) or .xlsx file as dicts
    keyed by field name.

    Raises:
        ValidationError: wrong type, too big, unreadable, missing columns or too many rows.
    """
    if len(data) > MAX_BYTES:
        raise ValidationError(_("The file is larger than 10 MB."), errors={"file": "too_large"})
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        table = _csv_table(data)
    elif suffix == ".xlsx":
        table = _xlsx_table(data)
    else:
        raise ValidationError(_("Upload a .csv or .xlsx file."), errors={"file": "unsupported_type"})
    header = [str(h or "").strip().lower() for h in next(table, [])]
    positions = {}
    for name, headings in COLUMNS.items():
        for i, heading in enumerate(header):
            if heading in headings:
                positions[name] = i
    if missing := [COLUMNS[f][0] for f in REQUIRED if f not in positions]:
        raise ValidationError(_("The file lacks the columns: %(columns)s.", columns="、".join(missing)),
                              errors={"file": "missing_columns"})
    rows = []
    for read, raw in enumerate(table, start=1):
        # Blank lines count towards the cap too, so a file of millions of empty rows stops here.
        if len(rows) == MAX_ROWS or read > MAX_LINES:
            raise ValidationError(_("The file has more than %(n)s rows; split it.", n=MAX_ROWS),
                                  errors={"file": "too_many_rows"})
        if not any(str(v or "").strip() for v in raw):
            continue
        row = {name: _cell(raw, i) for name, i in positions.items()}
        if _id_lost_digits(raw[positions["id_number"]] if positions["id_number"] < len(raw) else ""):
            row[NUMERIC_ID] = "1"
        rows.append(row)
    return rows


def _id_lost_digits(value) -> bool:
    """An ID cell Excel stored as a number: a float (15 significant digits, so an 18-digit
    number has lost its last ones) or text in scientific notation (``1.10105E+17``)."""
    return isinstance(value, float) or bool(_SCIENTIFIC.match(str(value or "").strip()))


def _cell(row, i) -> str:
    value = row[i] if i < len(row) else ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel turns phone numbers into floats
    return "" if value is None else str(value).strip()


def _csv_table(data: bytes) -> Iterator[list]:
    """The CSV's rows, parsed one by one as they are read (nothing past the cap is parsed)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return _refusing_broken(csv.reader(io.StringIO(text)), csv.Error)
    raise ValidationError(_("The CSV file is neither UTF-8 nor GB18030 text."), errors={"file": "encoding"})


def _xlsx_table(data: bytes) -> Iterator[list]:
    """The first sheet's rows, streamed (openpyxl's read-only mode), at most MAX_COLUMNS wide.

    A workbook that unpacks to more than MAX_XLSX_UNPACKED is refused before it is opened: a
    few kilobytes of zip can declare gigabytes of rows, openpyxl reads the shared strings whole,
    and it reads a sheet without a <dimension> element once through to size it (the zip's
    declared sizes bound what it can unpack).
    """
    from openpyxl import load_workbook

    try:
        unpacked = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except (zipfile.BadZipFile, ValueError) as exc:
        raise ValidationError(_("The Excel file cannot be read."), errors={"file": "corrupt"}) from exc
    if unpacked > MAX_XLSX_UNPACKED:
        raise ValidationError(_("The Excel file unpacks to more than %(n)s MB; save it again or split it.",
                                n=MAX_XLSX_UNPACKED // (1024 * 1024)), errors={"file": "too_large"})
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ValidationError(_("The Excel file cannot be read."), errors={"file": "corrupt"}) from exc
    rows = book.worksheets[0].iter_rows(max_col=MAX_COLUMNS, values_only=True)
    return _refusing_broken(rows, Exception)


def _refusing_broken(rows: Iterator[list], broken: type[Exception]) -> Iterator[list]:
    """``rows``, with a parse error met on the way made a ValidationError."""
    try:
        yield from rows
    except broken as exc:
        raise ValidationError(_("The file is damaged: it cannot be read to the end."),
                              errors={"file": "corrupt"}) from exc


def roster_template() -> bytes:
    """An Excel roster template: the columns the import reads, the ID column formatted as text
    (so Excel keeps all 18 digits), and a sheet listing the accepted person categories."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = _("Roster")
    sheet.append([COLUMNS[name][0] for name in COLUMNS])
    for row in range(2, 502):
        sheet.cell(row=row, column=2).number_format = "@"
        sheet.cell(row=row, column=3).number_format = "@"
    for column, width in zip("ABCDE", (12, 24, 16, 22, 24)):
        sheet.column_dimensions[column].width = width
    notes = book.create_sheet(_("How to fill in"))
    notes.append([_("Person category (one of these only)")])
    for category in PERSON_CATEGORIES:
        notes.append([category])
    notes.append([])
    notes.append([_("The ID number column is formatted as text: type the 18 digits. Do not paste them as "
                    "numbers, or Excel loses the last digits.")])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def import_roster(actor: User, class_id, rows: list[dict[str, str]],
                  progress: Callable[[int], None] | None = None) -> ImportReport:
    """Register new trainees and enrol every valid row in the class; report refused rows.

    Raises:
        PermissionDeniedError, ConflictError: see ``get_open_application`` (the roster closes
            once the application is submitted).
    """
    report = ImportReport(rows=len(rows))
    with transaction() as session:
        klass = get_open_application(session, actor, class_id)
        numbers = [normalise_id_number(r.get("id_number", "")) for r in rows]
        known = {t.id_number: t for t in session.scalars(
            select(Trainee).where(Trainee.id_number.in_(numbers)))}
        enrolled = set(session.scalars(select(Enrolment.trainee_id).where(Enrolment.class_id == klass.id)))
        seen = set()
        for line, row in enumerate(rows, start=2):  # line 1 is the header
            data = TraineeInput(**{k: row.get(k, "") for k in COLUMNS}).cleaned()
            if row.get(NUMERIC_ID):
                report.refused.append((line, _(
                    "The ID number was stored as a number by Excel (scientific notation, the last digits "
                    "are lost). Format the ID column as text, type the numbers again, or use the template.")))
            elif errors := validate_trainee(data):
                report.refused.append((line, "; ".join(errors.values())))
            elif data.id_number in seen:
                report.refused.append((line, _("The ID number appears twice in the file.")))
            elif data.id_number in known and known[data.id_number].name != data.name:
                report.refused.append((line, _("This ID number is registered under another name.")))
            else:
                seen.add(data.id_number)
                trainee = known.get(data.id_number)
                if trainee is None:
                    trainee = known[data.id_number] = add_trainee(session, actor, data)
                    trainee.registered_by_institution_id = klass.institution_id
                    report.registered += 1
                if trainee.id in enrolled:
                    report.already_enrolled += 1
                else:
                    session.add(Enrolment(class_id=klass.id, trainee_id=trainee.id))
                    enrolled.add(trainee.id)
                    report.enrolled += 1
            if progress:
                progress(1)
        append_audit(session, actor, "class.roster_imported", klass, {
            "rows": report.rows, "registered": report.registered, "enrolled": report.enrolled,
            "refused": len(report.refused)})
    return report
