"""Reads behind the PIPL view: how many people's face templates are stored, the consent text
versions in use, whose templates are past their retention, and what is held about one trainee."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import (AlternativeVerification, ClassSession, ClassStatus, Consent, ConsentText,
                        Enrolment, FaceTemplate, FaceVerification, HoursEntry, Trainee, TrainingClass)

#: Classes that never ran do not keep a template: a withdrawn or rejected application.
ENDED_NOTHING = (ClassStatus.WITHDRAWN, ClassStatus.REJECTED)


def count_template_holders(session: Session) -> int:
    """How many people have a face template stored now (one template per trainee)."""
    return session.scalar(select(func.count(func.distinct(FaceTemplate.trainee_id)))) or 0


def list_consent_versions(session: Session) -> list[tuple[str, int, int, int]]:
    """Every consent text version: (version, retention days, consents in force, withdrawn)."""
    rows = session.execute(
        select(ConsentText.version, ConsentText.retention_days,
               func.count(Consent.id).filter(Consent.withdrawn_at.is_(None)),
               func.count(Consent.id).filter(Consent.withdrawn_at.is_not(None)))
        .outerjoin(Consent, Consent.consent_text_id == ConsentText.id)
        .group_by(ConsentText.version, ConsentText.retention_days)
        .order_by(ConsentText.version)).all()
    return [(v, days, int(active or 0), int(withdrawn or 0)) for v, days, active, withdrawn in rows]


def list_templates_past_retention(session: Session, ended_before: datetime) -> list[uuid.UUID]:
    """Trainees with a stored template whose last class (the latest session end over every class
    not withdrawn or rejected) ended before ``ended_before``, or who are on no such class and
    enrolled their face before it (the purpose lapsed with no class to train for)."""
    last_end = (select(Enrolment.trainee_id, func.max(ClassSession.ends_at).label("last_end"))
                .join(TrainingClass, TrainingClass.id == Enrolment.class_id)
                .join(ClassSession, ClassSession.class_id == TrainingClass.id)
                .where(TrainingClass.status.not_in(ENDED_NOTHING))
                .group_by(Enrolment.trainee_id).subquery())
    return list(session.scalars(
        select(FaceTemplate.trainee_id).outerjoin(last_end, last_end.c.trainee_id == FaceTemplate.trainee_id)
        .where(func.coalesce(last_end.c.last_end, FaceTemplate.created_at) < ended_before)
        .order_by(FaceTemplate.trainee_id)))


def count_records_of(session: Session, trainee_id) -> dict[str, int]:
    """How many face checks and ledger entries are held about a trainee."""
    return {
        "face_checks": session.scalar(select(func.count(FaceVerification.id))
                                      .where(FaceVerification.trainee_id == trainee_id)) or 0,
        "ledger_entries": session.scalar(select(func.count(HoursEntry.id)).join(
            Enrolment, Enrolment.id == HoursEntry.enrolment_id).where(Enrolment.trainee_id == trainee_id)) or 0,
    }


def count_processing(session: Session) -> dict[str, int]:
    """Totals for the processing record: trainees, face checks, ID-card arrangements."""
    def count(column) -> int:
        return session.scalar(select(func.count(column))) or 0
    return {"trainees": count(Trainee.id), "face_checks": count(FaceVerification.id),
            "alternatives": count(AlternativeVerification.id)}
