"""Roster import from CSV and Excel."""
import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from app.errors.exceptions import ConflictError, ValidationError
from app.extensions import db
from app.models import Enrolment, Role, Trainee
from app.services.classes import submit_class
from app.services.roster import MAX_ROWS, MAX_XLSX_UNPACKED, import_roster, read_rows
from tests.factories import make_catalogue, make_class, make_trainee, make_user, resident_id

HEADER = "姓名,身份证号,手机号,人员类别,工作单位\n"


@pytest.fixture
def setting(app):
    admin = make_user(Role.ADMIN)
    institution, _, programme = make_catalogue(admin)
    instructor = make_user(Role.INSTRUCTOR, institution=institution)
    return admin, make_class(admin, institution, programme, instructor)


def _csv(*lines: str) -> bytes:
    return (HEADER + "\n".join(lines) + "\n").encode("utf-8-sig")


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_import_reports_refused_rows_and_is_idempotent(setting):
    admin, klass = setting
    good1, good2 = resident_id(), resident_id()
    bad_check = good1[:17] + ("0" if good1[17] != "0" else "1")
    data = _csv(f"刘备,{good1},13900000001,高校毕业生,", f"关羽,{good2},139-0000-0002,企业职工,蜀汉钢铁",
                f"张飞,{bad_check},13900000003,退役军人,", f"赵云,{resident_id()},123,退役军人,",
                f"刘备,{good1},13900000001,高校毕业生,")
    report = import_roster(admin, klass.id, read_rows("名册.csv", data))
    assert (report.rows, report.registered, report.enrolled) == (5, 2, 2)
    assert [line for line, _ in report.refused] == [4, 5, 6]
    assert "校验码" in report.refused[0][1] and "手机号" in report.refused[1][1]
    assert "重复" in report.refused[2][1]
    again = import_roster(admin, klass.id, read_rows("名册.csv", data))
    assert (again.registered, again.enrolled, again.already_enrolled) == (0, 0, 2)
    assert _count(Trainee) == 2 and _count(Enrolment) == 2


def test_existing_trainee_is_enrolled_not_duplicated(setting):
    admin, klass = setting
    trainee = make_trainee("诸葛亮")
    report = import_roster(admin, klass.id, read_rows("a.csv", _csv(f"诸葛亮,{trainee.id_number},13900000009,高校毕业生,")))
    assert (report.registered, report.enrolled) == (0, 1)
    other = import_roster(admin, klass.id, read_rows("b.csv", _csv(f"司马懿,{trainee.id_number},13900000009,高校毕业生,")))
    assert "其他姓名" in other.refused[0][1]


def test_excel_import(setting):
    admin, klass = setting
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "身份证号", "手机号", "人员类别"])
    sheet.append(["孙权", resident_id(), 13900000011, "下岗失业人员"])
    buffer = io.BytesIO()
    book.save(buffer)
    report = import_roster(admin, klass.id, read_rows("roster.xlsx", buffer.getvalue()))
    assert report.enrolled == 1 and report.refused == []


@pytest.mark.parametrize("name, data, code", [
    ("a.csv", b"name,phone\n\xe5\xbc\xa0,139\n", "missing_columns"),
    ("a.txt", b"whatever", "unsupported_type"),
    ("a.xlsx", b"not a zip", "corrupt"),
    ("a.csv", b"\xff\xfe\x00garbage\x81", "encoding"),
])
def test_bad_files_are_refused_whole(setting, name, data, code):
    with pytest.raises(ValidationError) as info:
        read_rows(name, data)
    assert info.value.errors["file"] == code


def test_too_many_rows_is_refused_before_anything_is_written(setting):
    admin, klass = setting
    rows = "".join(f"某某,{resident_id(seq=i)},13900000000,高校毕业生,\n" for i in range(MAX_ROWS + 1))
    with pytest.raises(ValidationError) as info:
        read_rows("big.csv", (HEADER + rows).encode())
    assert info.value.errors["file"] == "too_many_rows"
    assert _count(Trainee) == 0


def test_roster_closes_after_submission(setting):
    admin, klass = setting
    import_roster(admin, klass.id, read_rows("a.csv", _csv(f"刘备,{resident_id()},13900000001,高校毕业生,")))
    submit_class(admin, klass.id)
    with pytest.raises(ConflictError):
        import_roster(admin, klass.id, read_rows("b.csv", _csv(f"关羽,{resident_id()},13900000002,高校毕业生,")))


def test_cli_import_shows_progress_and_report(setting, runner, tmp_path):
    admin, klass = setting
    path = tmp_path / "名册.csv"
    path.write_bytes(_csv(f"刘备,{resident_id()},13900000001,高校毕业生,", "张飞,123,1,x,"))
    result = runner.invoke(args=["roster", "import", str(path), "--class", str(klass.id)])
    assert result.exit_code == 0, result.output
    assert "enrolled 1" in result.output and "refused 1" in result.output and "line 3:" in result.output
    missing = runner.invoke(args=["roster", "import", str(path), "--class", "not-a-uuid"])
    assert missing.exit_code != 0 and "班级不存在" in missing.output


def _too_many_rows(call) -> None:
    with pytest.raises(ValidationError) as info:
        call()
    assert info.value.errors == {"file": "too_many_rows"}


def test_csv_stops_reading_at_the_row_cap(app):
    """Rows past the cap are never parsed: a damaged line after them does not matter."""
    rows = "".join(f"某某,{resident_id(seq=i)},13900000000,高校毕业生,\n" for i in range(MAX_ROWS + 1))
    _too_many_rows(lambda: read_rows("a.csv", (HEADER + rows).encode() + b"x\0y\n"))


def test_blank_csv_lines_count_towards_the_cap(app):
    _too_many_rows(lambda: read_rows("a.csv", (HEADER + ",,,,\n" * (3 * MAX_ROWS)).encode()))


def _xlsx(rows: int, tail: bytes = b"") -> bytes:
    """A roster workbook of `rows` rows; `tail` is spliced into the sheet after them."""
    import zipfile

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["姓名", "身份证号", "手机号", "人员类别"])
    for i in range(rows):
        sheet.append(["某某", resident_id(seq=i), "13900000000", "高校毕业生"])
    buffer = io.BytesIO()
    book.save(buffer)
    source, out = zipfile.ZipFile(io.BytesIO(buffer.getvalue())), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                # Excel writes the sheet's dimension first (openpyxl's write-only mode does not;
                # without it openpyxl reads the whole sheet once to find it).
                content = content.replace(b"<sheetData>", b'<dimension ref="A1:D99999"/><sheetData>')
                content = content.replace(b"</sheetData>", tail + b"</sheetData>")
            target.writestr(info.filename, content)
    return out.getvalue()


def test_excel_is_streamed_and_stops_at_the_row_cap(app):
    """openpyxl reads the sheet as a stream: the broken XML after the cap is never reached."""
    _too_many_rows(lambda: read_rows("a.xlsx", _xlsx(MAX_ROWS + 1, b"<row><c><v>1</v></c><broken")))


def test_excel_of_empty_rows_stops_at_the_line_cap(app):
    blank = b"".join(b'<row r="%d"/>' % n for n in range(MAX_ROWS + 10, 4 * MAX_ROWS))
    _too_many_rows(lambda: read_rows("a.xlsx", _xlsx(10, blank)))


def test_excel_that_unpacks_too_large_is_refused_unread(app):
    import zipfile
    data = _xlsx(1)
    padded = io.BytesIO()
    with zipfile.ZipFile(padded, "w", zipfile.ZIP_DEFLATED) as target:
        for info in zipfile.ZipFile(io.BytesIO(data)).infolist():
            target.writestr(info.filename, zipfile.ZipFile(io.BytesIO(data)).read(info.filename))
        target.writestr("xl/padding.bin", b"\0" * (MAX_XLSX_UNPACKED + 1))
    with pytest.raises(ValidationError) as info:
        read_rows("a.xlsx", padded.getvalue())
    assert info.value.errors == {"file": "too_large"}
