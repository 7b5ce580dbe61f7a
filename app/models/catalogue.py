"""The two catalogues (两目录) and what hangs off them: occupations, the urgent-shortage list,
programmes with their subsidy standards, and evaluation organisations.

Every entry has a listing status; revoking one stops new classes and new subsidy lines but
keeps its history. Standards and the shortage list are versioned by effective date (动态调整).
"""
from __future__ import annotations

import enum
import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.accounts import enum_column
from app.models.base import Base, Timestamps, UUIDPrimaryKey
from app.models.organisation import Listed


class TrainingCategory(enum.StrEnum):
    """Training categories with provincial yearly targets (R9)."""

    EMPLOYMENT = "employment"              # 就业技能培训
    UPGRADING = "upgrading"                # 岗位技能提升培训
    ENTREPRENEURSHIP = "entrepreneurship"  # 创业培训
    APPRENTICESHIP = "apprenticeship"      # 企业新型学徒制
    HIGH_SKILL = "high_skill"              # 高技能人才培训


class SkillLevel(enum.StrEnum):
    """National vocational skill levels, from 五级/初级工 up to 一级/高级技师."""

    LEVEL_5 = "level_5"  # 五级/初级工
    LEVEL_4 = "level_4"  # 四级/中级工
    LEVEL_3 = "level_3"  # 三级/高级工
    LEVEL_2 = "level_2"  # 二级/技师
    LEVEL_1 = "level_1"  # 一级/高级技师


class DeliveryMode(enum.StrEnum):
    """How a programme is taught."""

    OFFLINE = "offline"
    ONLINE = "online"
    BLENDED = "blended"


class Occupation(UUIDPrimaryKey, Timestamps, Listed, Base):
    """An occupation of the national classification (职业分类大典), by its code."""

    __tablename__ = "occupations"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class ShortageListing(UUIDPrimaryKey, Timestamps, Base):
    """An occupation on the urgent-shortage list (急需紧缺工种) from one date until another."""

    __tablename__ = "shortage_listings"

    occupation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("occupations.id"), index=True)
    effective_from: Mapped[date]
    effective_to: Mapped[date | None]
    note: Mapped[str] = mapped_column(Text, default="")

    occupation = relationship("Occupation")


class Programme(UUIDPrimaryKey, Timestamps, Listed, Base):
    """A listed training programme: occupation and level, category, hours and delivery mode."""

    __tablename__ = "programmes"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    occupation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("occupations.id"))
    level: Mapped[SkillLevel | None] = mapped_column(enum_column(SkillLevel))
    category: Mapped[TrainingCategory] = mapped_column(enum_column(TrainingCategory))
    theory_hours: Mapped[int] = mapped_column(default=0)
    practice_hours: Mapped[int] = mapped_column(default=0)
    delivery_mode: Mapped[DeliveryMode] = mapped_column(
        enum_column(DeliveryMode), default=DeliveryMode.OFFLINE)

    occupation = relationship("Occupation")
    standards = relationship("SubsidyStandard", back_populates="programme",
                             order_by="SubsidyStandard.effective_from")

    @property
    def required_hours(self) -> int:
        return self.theory_hours + self.practice_hours


class SubsidyStandard(UUIDPrimaryKey, Timestamps, Base):
    """The subsidy per trainee for a programme, in yuan, valid from a date (until the next one)."""

    __tablename__ = "subsidy_standards"

    programme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programmes.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    effective_from: Mapped[date]

    programme = relationship("Programme", back_populates="standards")


class EvaluationOrganisation(UUIDPrimaryKey, Timestamps, Listed, Base):
    """A skill-evaluation organisation (培训评价机构) of the catalogue."""

    __tablename__ = "evaluation_organisations"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
