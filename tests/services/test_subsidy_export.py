"""Claim exports: one row per trainee with masked ID, hours, amount, rule in words, trace id and
payee; the export for payment with the full ID and account numbers; CSV in UTF-8 with a BOM;
Excel and CSV byte-identical when exported again."""
import csv
import io
import time
import zipfile
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from app.services import subsidy_export
from app.services.registry import update_trainee
from app.services.resident_id import mask_resident_id
from tests.subsidy_helpers import claimed_class


@pytest.fixture
def claim(app):
    _world, _klass, prepared, paid, short = claimed_class()
    return prepared, paid, short


def test_csv_has_a_bom_and_one_row_per_trainee(claim):
    claim, paid, short = claim
    data = subsidy_export.export_csv(claim)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["序号", "姓名", "身份证号"] and len(rows) == 4
    assert rows[-1] == ["审计检查点", "SkillTrace checkpoint none yet"]
    by_name = {r[1]: r for r in rows[1:-1]}
    assert by_name["李雷"][2] == mask_resident_id(paid.id_number) and paid.id_number not in data.decode("utf-8-sig")
    assert by_name["李雷"][3:8] == ["焊工中级", "四级/中级工", "3.00", "1200.00", "是"]
    assert by_name["韩梅梅"][5:8] == ["1.50", "0.00", "否"]
    assert by_name["韩梅梅"][8] == "已核验学时不足（要求学时减去免修学时）。；尚无结业考核成绩。" and "hours_short" not in data.decode("utf-8-sig")
    assert by_name["李雷"][9] == next(l.trace_id for l in claim.lines if l.trainee_id == paid.id)


def test_exports_are_byte_identical_when_run_again(claim):
    claim = claim[0]
    first_xlsx, first_csv = subsidy_export.export_xlsx(claim), subsidy_export.export_csv(claim)
    time.sleep(1.1)  # openpyxl stamps the save time in seconds: a second later must not show
    assert subsidy_export.export_xlsx(claim) == first_xlsx
    assert subsidy_export.export_csv(claim) == first_csv
    assert {i.date_time for i in zipfile.ZipFile(io.BytesIO(first_xlsx)).infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_workbook_opens_with_numbers_and_chinese(claim):
    claim = claim[0]
    sheet = load_workbook(io.BytesIO(subsidy_export.export_xlsx(claim))).active
    assert sheet.title == "补贴申请" and sheet["B2"].value == "姓名"
    amounts = sorted(Decimal(str(sheet.cell(row=r, column=7).value)) for r in (3, 4))
    assert amounts == [Decimal("0"), Decimal("1200")]


FORMULA = '=HYPERLINK("http://e.cn","x")&"'


def test_text_that_looks_like_a_formula_is_never_run(app, claim):
    """A class code or programme name beginning with = + - @ (as a registrar could type) is
    written as text in both exports, shown with a leading apostrophe."""
    from app.extensions import db
    claim = claim[0]
    claim.training_class.code = FORMULA
    claim.training_class.programme.name = "@SUM(A1:A9)"
    db.session.flush()
    book = load_workbook(io.BytesIO(subsidy_export.export_xlsx(claim)))
    cells = [cell for row in book.active.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    assert book.active["A1"].value.startswith("'" + FORMULA)
    assert book.active["D3"].value == "'@SUM(A1:A9)"
    rows = list(csv.reader(io.StringIO(subsidy_export.export_csv(claim).decode("utf-8-sig"))))
    assert {row[3] for row in rows[1:-1]} == {"'@SUM(A1:A9)"} and rows[-1][0] == "审计检查点"
    db.session.rollback()


@pytest.mark.parametrize("text", [FORMULA, "+1", "-1+2", "@x", "\t=1", "\r=1"])
def test_safe_cell_escapes_every_formula_lead(text):
    from app.services.cells import safe_cell
    assert safe_cell(text) == "'" + text
    assert safe_cell("李雷") == "李雷" and safe_cell(-1) == -1


ACCOUNT = "6222021234567890123"


def with_payee(world_admin, trainee, bank="中国工商银行济南分行", account=ACCOUNT):
    return update_trainee(world_admin, trainee.id, trainee.phone, trainee.category, "", (bank, account))


def test_the_payment_export_carries_full_numbers_and_the_payee(app):
    world, _klass, claim, paid, _short = claimed_class()
    with_payee(world.admin, paid)
    full = list(csv.reader(io.StringIO(subsidy_export.export_csv(claim, full=True).decode("utf-8-sig"))))
    assert full[0][10:] == ["开户银行", "银行账号/社保卡号"]
    row = next(r for r in full if r[1] == "李雷")
    assert row[2] == paid.id_number and row[10:] == ["中国工商银行济南分行", ACCOUNT]
    sheet = load_workbook(io.BytesIO(subsidy_export.export_xlsx(claim, full=True))).active
    assert {sheet.cell(row=r, column=12).value for r in (3, 4)} == {ACCOUNT, None}  # none recorded: an empty cell


def test_the_export_for_everyone_else_masks_id_and_account(app):
    world, _klass, claim, paid, _short = claimed_class()
    with_payee(world.admin, paid)
    text = subsidy_export.export_csv(claim).decode("utf-8-sig")
    row = next(r for r in csv.reader(io.StringIO(text)) if r[1] == "李雷")
    assert row[2] == mask_resident_id(paid.id_number) and row[11] == "*" * 15 + "0123"
    assert paid.id_number not in text and ACCOUNT not in text
    book = subsidy_export.export_xlsx(claim)
    values = [c.value for r in load_workbook(io.BytesIO(book)).active.iter_rows() for c in r]
    assert ACCOUNT not in values and paid.id_number not in values


def test_a_bank_name_that_looks_like_a_formula_is_written_as_text(app):
    world, _klass, claim, paid, _short = claimed_class()
    with_payee(world.admin, paid, bank=FORMULA)
    for full in (True, False):
        book = load_workbook(io.BytesIO(subsidy_export.export_xlsx(claim, full=full)))
        assert not [c.coordinate for r in book.active.iter_rows() for c in r if c.data_type == "f"]
        rows = list(csv.reader(io.StringIO(subsidy_export.export_csv(claim, full=full).decode("utf-8-sig"))))
        assert next(r for r in rows if r[1] == "李雷")[10] == "'" + FORMULA
