"""A claim as Excel and CSV (R5), one row per trainee: name, ID number, programme, level, hours,
amount, rule, trace id and the payee (bank, and bank account or social-security card number), and
the latest audit checkpoint's stamp. The export for payment (``full=True``, only for readers
allowed to see full ID numbers, `policy.can_see_full_id`) carries the full ID and account numbers;
every other export masks both. Exports are
read-only and byte-identical when run again (while no new checkpoint is taken): fixed column titles in Chinese whatever the reader's language, the workbook's document
dates set to the claim's preparation time, and every zip entry rewritten with a fixed date.
Text cells go through `app.services.cells.safe_row`, so no name or code is run as a formula.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import force_locale
from openpyxl import Workbook

from app.models import SubsidyClaim, SubsidyClaimLine
from app.services.cells import safe_row
from app.services.document_stamps import current_stamp
from app.services.registry import mask_account
from app.services.subsidy import rule_words
from app.services.resident_id import mask_resident_id

HEADERS = ("序号", "姓名", "身份证号", "培训项目", "等级", "学时", "补贴金额（元）", "是否符合", "计算规则", "追溯码",
           "开户银行", "银行账号/社保卡号")
LEVELS = {"level_5": "五级/初级工", "level_4": "四级/中级工", "level_3": "三级/高级工",
          "level_2": "二级/技师", "level_1": "一级/高级技师"}
EXPORT_LOCALE = "zh_CN"  # the rule in Chinese words whatever the reader's language
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_CORE_DATES = re.compile(r"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def _hours(line: SubsidyClaimLine) -> str:
    return str((Decimal(line.net_minutes) / line.hour_minutes).quantize(Decimal("0.01"), ROUND_HALF_UP))


def rows(claim: SubsidyClaim, full: bool = False) -> list[tuple[str, ...]]:
    """The export rows (strings), one per line in claim order, the rule in Chinese words; ID and
    account numbers masked unless ``full``."""
    programme = claim.training_class.programme
    level = LEVELS.get(programme.level.value, "") if programme.level else ""
    id_number = (lambda t: t.id_number) if full else (lambda t: mask_resident_id(t.id_number))
    account = (lambda t: t.payee_account) if full else (lambda t: mask_account(t.payee_account))
    with force_locale(EXPORT_LOCALE):
        return [(str(l.position), l.trainee.name, id_number(l.trainee), programme.name, level,
                 _hours(l), f"{l.amount:.2f}", "是" if l.eligible else "否", rule_words(l), l.trace_id,
                 l.trainee.payee_bank, account(l.trainee))
                for l in claim.lines]


def export_csv(claim: SubsidyClaim, full: bool = False) -> bytes:
    """UTF-8 with a BOM (so Excel reads the Chinese), CRLF line ends; the last row is the
    latest audit checkpoint's stamp."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(safe_row(HEADERS))
    writer.writerows(safe_row(row) for row in rows(claim, full))
    writer.writerow(safe_row(("审计检查点", current_stamp())))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _normalise_zip(data: bytes, stamp: str) -> bytes:
    """Rewrite every entry with a fixed date, and the core properties' dates with ``stamp``."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _CORE_DATES.sub(rf"\g<1>{stamp}\g<2>", content.decode("utf-8")).encode("utf-8")
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            entry.compress_type, entry.external_attr = zipfile.ZIP_DEFLATED, 0o600 << 16
            target.writestr(entry, content)
    return out.getvalue()


def export_xlsx(claim: SubsidyClaim, full: bool = False) -> bytes:
    """The claim as an .xlsx workbook with one sheet, amounts as numbers (numbers masked unless
    ``full``)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "补贴申请"
    klass = claim.training_class
    sheet.append(safe_row([f"{klass.code} {klass.name}", f"第 {claim.version} 版",
                           f"合计 {claim.total_amount:.2f} 元", "审计检查点", current_stamp()]))
    sheet.append(safe_row(HEADERS))
    for row in rows(claim, full):
        sheet.append(safe_row([int(row[0]), *row[1:5], Decimal(row[5]), Decimal(row[6]), *row[7:]]))
    for column, width in zip("ABCDEFGHIJKL", (6, 10, 22, 20, 14, 8, 14, 8, 60, 18, 24, 24)):
        sheet.column_dimensions[column].width = width
    prepared = claim.prepared_at.replace(tzinfo=None, microsecond=0)
    workbook.properties.creator = "SkillTrace"
    workbook.properties.created = workbook.properties.modified = prepared
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _normalise_zip(buffer.getvalue(), prepared.isoformat() + "Z")
