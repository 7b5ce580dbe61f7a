"""The roster import's Excel template, and ID numbers that Excel stored as numbers (scientific
notation, last digits lost): refused with a message that says so, nothing registered."""
import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import PERSON_CATEGORIES, Role, Trainee
from app.services.roster import import_roster, read_rows, roster_template
from tests.factories import PASSWORD, make_catalogue, make_class, make_user, resident_id


@pytest.fixture
def setting(app):
    admin = make_user(Role.ADMIN)
    institution, _, programme = make_catalogue(admin)
    instructor = make_user(Role.INSTRUCTOR, institution=institution)
    return admin, make_class(admin, institution, programme, instructor)


def test_roster_template_lists_columns_and_categories_and_keeps_ids_as_text(app):
    book = load_workbook(io.BytesIO(roster_template()))
    roster, notes = book.worksheets
    assert [c.value for c in roster[1]] == ["姓名", "身份证号", "手机号", "人员类别", "工作单位"]
    assert roster.cell(row=2, column=2).number_format == "@"
    listed = [row[0] for row in notes.iter_rows(values_only=True)]
    assert all(category in listed for category in PERSON_CATEGORIES)


def test_roster_template_filled_in_imports(setting):
    admin, klass = setting
    book = load_workbook(io.BytesIO(roster_template()))
    book.worksheets[0].append(["貂蝉", resident_id(), "13500000001", "高校毕业生", ""])
    out = io.BytesIO()
    book.save(out)
    report = import_roster(admin, klass.id, read_rows("名册.xlsx", out.getvalue()))
    assert (report.enrolled, report.refused) == (1, [])


def test_roster_numeric_id_is_refused_with_the_reason(setting):
    admin, klass = setting
    number = next(n for n in iter(resident_id, None) if not n.endswith("X"))  # Excel keeps an X number as text
    book = Workbook()
    book.active.append(["姓名", "身份证号", "手机号", "人员类别"])
    book.active.append(["吕布", float(number), "13500000002", "退役军人"])   # as Excel stores it
    book.active.append(["貂蝉", resident_id(), "13500000001", "高校毕业生"])
    out = io.BytesIO()
    book.save(out)
    report = import_roster(admin, klass.id, read_rows("名册.xlsx", out.getvalue()))
    assert report.enrolled == 1 and [line for line, _reason in report.refused] == [2]
    assert "科学计数法" in report.refused[0][1]
    csv = f"姓名,身份证号,手机号,人员类别\n张辽,1.10105E+17,13500000003,退役军人\n".encode()
    report = import_roster(admin, klass.id, read_rows("名册.csv", csv))
    assert report.enrolled == 0 and "科学计数法" in report.refused[0][1]
    assert db.session.scalar(select(func.count()).select_from(Trainee).where(Trainee.name.in_(["吕布", "张辽"]))) == 0


def test_roster_template_download_for_staff_only(setting, client, auth):
    auth.login("instructor", PASSWORD)
    answer = client.get("/classes/roster-template.xlsx")
    assert answer.status_code == 200 and answer.mimetype.endswith("spreadsheetml.sheet")
    assert load_workbook(io.BytesIO(answer.data)).worksheets[0]["B1"].value == "身份证号"
    auth.logout()
    make_user(Role.TRAINEE, "trainee1")
    auth.login("trainee1", PASSWORD)
    assert client.get("/classes/roster-template.xlsx").status_code == 403
