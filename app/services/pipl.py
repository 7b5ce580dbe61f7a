"""Personal-information duties for face data (PIPL arts. 28–30, 47, 51–55; the face-recognition
measures in force since 2025-06-01): how close the system is to the 100,000-person filing
threshold, the automatic deletion of templates ``FACE_TEMPLATE_RETENTION_DAYS`` after a
trainee's last class ends, or after the face was enrolled for a trainee on no class (audited
with counts), the processing record (个人信息处理活动记录)
as rows for export, and what is held about one trainee (their "my data" page and download).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.clock import local_stamp
from app.models import Certificate, Enrolment, FaceTemplate, Trainee
from app.models.base import utcnow
from app.queries import pipl as queries
from app.services import face_images, replay
from app.services._tx import transaction
from app.services.audit import append_audit
from app.services.consent import active_consent
from app.services.registry import mask_account
from app.services.resident_id import mask_resident_id


@dataclass(frozen=True)
class FilingState:
    """People with a stored template against the filing threshold."""

    holders: int
    threshold: int
    warn_at: int

    @property
    def share(self) -> Decimal:
        return (Decimal(self.holders) / Decimal(self.threshold)).quantize(Decimal("0.0001"))

    @property
    def level(self) -> str:
        """``over`` (filing required), ``warn`` (at or past the warning share) or ``ok``."""
        if self.holders >= self.threshold:
            return "over"
        return "warn" if self.holders >= self.warn_at else "ok"


def filing_state(session: Session) -> FilingState:
    """The current count against ``FACE_FILING_THRESHOLD`` (warning at ``FACE_FILING_WARN_SHARE``)."""
    threshold = current_app.config["FACE_FILING_THRESHOLD"]
    warn_at = int(Decimal(threshold) * current_app.config["FACE_FILING_WARN_SHARE"])
    return FilingState(queries.count_template_holders(session), threshold, warn_at)


def retention_days() -> int:
    return current_app.config["FACE_TEMPLATE_RETENTION_DAYS"]


def purge_expired_templates(now: datetime | None = None) -> int:
    """Delete the face templates (and replay fingerprints and kept images) of every trainee whose
    last class ended more than ``FACE_TEMPLATE_RETENTION_DAYS`` before ``now`` (on no class: whose
    face was enrolled that long before); one audit entry
    with the count, the retention and the trainees. Returns how many templates were deleted."""
    now = now or utcnow()
    cutoff = now - timedelta(days=retention_days())
    with transaction() as session:
        due = queries.list_templates_past_retention(session, cutoff)
        if not due:
            return 0
        deleted = session.execute(delete(FaceTemplate).where(FaceTemplate.trainee_id.in_(due))).rowcount
        for trainee_id in due:
            replay.forget(session, trainee_id)
        append_audit(session, None, "face.templates_purged", SimpleNamespace(id=uuid.uuid4()), {
            "templates": deleted, "retention_days": retention_days(), "classes_ended_before": cutoff.isoformat(),
            "trainee_ids": [str(t) for t in due]}, object_type="face_templates")
    for trainee_id in due:
        face_images.delete_trainee_images(trainee_id)
    return deleted


PROCESSING_HEADERS = ("处理活动", "处理目的", "个人信息种类", "涉及人数或条数", "保存期限", "处理依据", "存储位置与保护措施")


def processing_record(session: Session) -> list[tuple]:
    """The processing record (PIPL arts. 55–56), one row per activity, with today's figures."""
    holders = queries.count_template_holders(session)
    consents = sum(active for _v, _d, active, _w in queries.list_consent_versions(session))
    totals = queries.count_processing(session)
    images = current_app.config["FACE_IMAGE_RETENTION_DAYS"]
    return [
        ("实名登记", "职业培训补贴实名制管理", "姓名、身份证号、手机号、人员类别、收款账户", totals["trainees"],
         "随补贴档案保存", "履行法定职责（职业培训补贴管理）", "本系统数据库；身份证号和账号对非管理员遮蔽显示"),
        ("人脸特征模板", "签到、签退和在线学习中的本人核验", "人脸特征值（敏感个人信息）", holders,
         f"最后一个班级结束后 {retention_days()} 天自动删除（未参加任何班级的，自采集起 {retention_days()} 天）；撤回同意即删除", "个人单独同意",
         "本系统数据库，AES-GCM 加密，不向外提供"),
        ("人脸核验记录", "学时真实性追溯（凡补必进）", "核验时间、结果、距离值、设备（不含人脸图像）",
         totals["face_checks"], "随学时档案保存", "个人单独同意", "本系统数据库与审计哈希链"),
        ("人脸图像留存", "核验争议复核", "核验时的人脸图像（敏感个人信息）", f"保存 {images} 天" if images else "不留存（待复核的除外）",
         f"{images} 天；待复核的留存至教师复核决定" if images else "仅待复核学时的核验图像留存至教师复核决定",
         "个人单独同意", "本系统服务器，加密保存"),
        ("同意记录", "证明单独同意及其撤回", "同意文本版本、方式、时间", consents,
         "随学员档案保存", "法定记录义务", "本系统数据库与审计哈希链"),
        ("身份证核验替代方式", "拒绝人脸识别者的替代核验", "理由、安排人、确认人", totals["alternatives"],
         "随学员档案保存", "个人选择", "本系统数据库"),
    ]


def my_data(session: Session, trainee: Trainee) -> dict:
    """Everything held about ``trainee`` in plain values (their page and their JSON download);
    the ID and account numbers masked as on every page."""
    consent = active_consent(session, trainee.id)
    template = session.scalar(select(FaceTemplate).where(FaceTemplate.trainee_id == trainee.id))
    enrolments = session.scalars(select(Enrolment).where(Enrolment.trainee_id == trainee.id)).all()
    certificates = session.scalars(select(Certificate).where(Certificate.trainee_id == trainee.id)).all()
    return {
        "identity": {"name": trainee.name, "id_number": mask_resident_id(trainee.id_number),
                     "birth_year": trainee.birth_date.year, "sex": trainee.sex.value, "phone": trainee.phone,
                     "category": trainee.category, "employer": trainee.employer,
                     "payee_bank": trainee.payee_bank, "payee_account": mask_account(trainee.payee_account),
                     "registered_at": local_stamp(trainee.created_at)},
        "consent": {"version": consent.consent_text.version, "given_at": local_stamp(consent.created_at),
                    "method": consent.method.value} if consent else None,
        "face_template": {"enrolled_at": local_stamp(template.created_at), "captures": template.captures,
                          "retention_days_after_last_class": retention_days()} if template else None,
        "classes": [{"code": e.training_class.code, "name": e.training_class.name,
                     "status": e.training_class.status.value} for e in enrolments],
        "certificates": [{"serial": c.serial, "level": c.level.value, "issued_on": c.issued_on.isoformat()}
                         for c in certificates],
        "records": queries.count_records_of(session, trainee.id),
    }
