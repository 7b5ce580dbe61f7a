"""Real-name trainee records (实名制): one record per resident ID number, with the skill
certificates they hold (双证互通)."""
from __future__ import annotations

import enum
import uuid
from datetime import date

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.accounts import enum_column
from app.models.base import Base, Timestamps, UUIDPrimaryKey
from app.models.catalogue import SkillLevel

PERSON_CATEGORIES = (
    "农村转移就业劳动者",
    "高校毕业生",
    "城乡未继续升学初高中毕业生",
    "下岗失业人员",
    "退役军人",
    "就业困难人员",
    "残疾人",
    "企业职工",
    "防止返贫监测对象",
    "其他",
)
ENTERPRISE_WORKER = "企业职工"


class Sex(enum.StrEnum):
    """Derived from the 17th digit of the resident ID: odd male, even female."""

    MALE = "male"
    FEMALE = "female"


class CertificateKind(enum.StrEnum):
    """What a certificate is; each kind has its national number format (see certificates.py)."""

    SKILL_LEVEL = "skill_level"              # 职业技能等级证书 / 职业资格证书: 1 letter + 21 digits
    SPECIAL_OPERATION = "special_operation"  # 特种作业操作证: "T" + the holder's resident ID number


class Trainee(UUIDPrimaryKey, Timestamps, Base):
    """A learner under real-name management, optionally linked to a sign-in account."""

    __tablename__ = "trainees"

    name: Mapped[str] = mapped_column(String(100))
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    birth_date: Mapped[date]
    sex: Mapped[Sex] = mapped_column(enum_column(Sex))
    phone: Mapped[str] = mapped_column(String(20), default="")
    category: Mapped[str] = mapped_column(String(40))
    employer: Mapped[str] = mapped_column(String(200), default="")
    #: Where the subsidy is paid: the bank (开户银行) and the bank account or social-security
    #: card number (社保卡金融账户); both empty until the office records them.
    payee_bank: Mapped[str] = mapped_column(String(50), default="", server_default="")
    payee_account: Mapped[str] = mapped_column(String(30), default="", server_default="")
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), unique=True)
    #: The institution whose instructor registered the trainee (none when the bureau did): it
    #: sees the trainee before any enrolment (app/services/policy.py).
    registered_by_institution_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("institutions.id"), index=True)

    certificates = relationship("Certificate", back_populates="trainee",
                                order_by="Certificate.issued_on")


class Certificate(UUIDPrimaryKey, Timestamps, Base):
    """A vocational skill-level certificate a trainee holds; grounds for exemptions (免修)."""

    __tablename__ = "certificates"

    trainee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trainees.id"), index=True)
    occupation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("occupations.id"))
    level: Mapped[SkillLevel] = mapped_column(enum_column(SkillLevel))
    kind: Mapped[CertificateKind] = mapped_column(enum_column(CertificateKind),
                                                  default=CertificateKind.SKILL_LEVEL,
                                                  server_default=CertificateKind.SKILL_LEVEL.value)
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    issued_on: Mapped[date]
    issuer: Mapped[str] = mapped_column(String(200), default="")

    trainee = relationship("Trainee", back_populates="certificates")
    occupation = relationship("Occupation")
