"""A claim as Excel and CSV (R5), one row per trainee: name, masked ID number, programme,
level, hours, amount, rule and trace id, and the latest audit checkpoint's stamp. Exports are
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

from openpyxl import Workbook

from app.models import SubsidyClaim, SubsidyClaimLine
from app.services.cells import safe_row
from app.services.document_stamps import current_stamp
from app.services.resident_id import mask_resident_id

HEADERS = ("序号", "姓名", "身份证号", "培训项目", "等级", "学时", "补贴金额（元）", "是否符合", "计算规则", "追溯码")
LEVELS = {"level_5": "五级/初级工", "level_4": "四级/中级工", "level_3": "三级/高级工",
          "level_2": "二级/技师", "level_1": "一级/高级技师"}
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_CORE_DATES = re.compile(r"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def _hours(line: SubsidyClaimLine) -> str:
    return str((Decimal(line.net_minutes) / line.hour_minutes).quantize(Decimal("0.01"), ROUND_HALF_UP))


def rows(claim: SubsidyClaim) -> list[tuple[str, ...]]:
    """The export rows (strings), one per line in claim order."""
    programme = claim.training_class.programme
    level = LEVELS.get(programme.level.value, "") if programme.level else ""
    return [(str(l.position), l.trainee.name, mask_resident_id(l.trainee.id_number), programme.name, level,
             _hours(l), f"{l.amount:.2f}", "是" if l.eligible else "否", l.rule, l.trace_id)
            for l in claim.lines]


def export_csv(claim: SubsidyClaim) -> bytes:
    """UTF-8 with a BOM (so Excel reads the Chinese), CRLF line ends; the last row is the
    latest audit checkpoint's stamp."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(safe_row(HEADERS))
    writer.writerows(safe_row(row) for row in rows(claim))
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


def export_xlsx(claim: SubsidyClaim) -> bytes:
    """The claim as an .xlsx workbook with one sheet, amounts as numbers."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "补贴申请"
    klass = claim.training_class
    sheet.append(safe_row([f"{klass.code} {klass.name}", f"第 {claim.version} 版",
                           f"合计 {claim.total_amount:.2f} 元", "审计检查点", current_stamp()]))
    sheet.append(safe_row(HEADERS))
    for row in rows(claim):
        sheet.append(safe_row([int(row[0]), *row[1:5], Decimal(row[5]), Decimal(row[6]), *row[7:]]))
    for column, width in zip("ABCDEFGHIJ", (6, 10, 22, 20, 14, 8, 14, 8, 60, 18)):
        sheet.column_dimensions[column].width = width
    prepared = claim.prepared_at.replace(tzinfo=None, microsecond=0)
    workbook.properties.creator = "SkillTrace"
    workbook.properties.created = workbook.properties.modified = prepared
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _normalise_zip(buffer.getvalue(), prepared.isoformat() + "Z")
