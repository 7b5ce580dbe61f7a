"""The training programme catalogue (培训项目目录)."""
from __future__ import annotations

import enum

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.accounts import enum_column
from app.models.base import Base, Timestamps, UUIDPrimaryKey
from app.models.organisation import ListingStatus


class TrainingCategory(enum.StrEnum):
    """Training categories with provincial yearly targets (R9)."""

    EMPLOYMENT = "employment"            # 就业技能培训
    UPGRADING = "upgrading"              # 岗位技能提升培训
    ENTREPRENEURSHIP = "entrepreneurship"  # 创业培训
    APPRENTICESHIP = "apprenticeship"    # 企业新型学徒制
    HIGH_SKILL = "high_skill"            # 高技能人才培训


class Programme(UUIDPrimaryKey, Timestamps, Base):
    """A listed training programme: what is taught, for how many hours, in which category."""

    __tablename__ = "programmes"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[TrainingCategory] = mapped_column(enum_column(TrainingCategory))
    theory_hours: Mapped[int] = mapped_column(default=0)
    practice_hours: Mapped[int] = mapped_column(default=0)
    status: Mapped[ListingStatus] = mapped_column(
        enum_column(ListingStatus), default=ListingStatus.LISTED
    )
