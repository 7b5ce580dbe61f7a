"""The reviewer's queue of second-person confirmations: exemptions (免修) and ID-card alternative
arrangements still pending, oldest first."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AlternativeVerification, Certificate, Enrolment, Exemption, Trainee, TrainingClass


def list_pending_exemptions(session: Session) -> list[tuple[Exemption, Trainee, TrainingClass, Certificate]]:
    """Unconfirmed exemptions with their trainee, class and certificate."""
    return [tuple(row) for row in session.execute(
        select(Exemption, Trainee, TrainingClass, Certificate)
        .join(Enrolment, Enrolment.id == Exemption.enrolment_id)
        .join(Trainee, Trainee.id == Enrolment.trainee_id)
        .join(TrainingClass, TrainingClass.id == Enrolment.class_id)
        .join(Certificate, Certificate.id == Exemption.certificate_id)
        .where(Exemption.confirmed_at.is_(None))
        .order_by(Exemption.created_at))]


def list_pending_alternatives(session: Session) -> list[tuple[AlternativeVerification, Trainee]]:
    """Unconfirmed ID-card arrangements still in force, with their trainee."""
    return [tuple(row) for row in session.execute(
        select(AlternativeVerification, Trainee)
        .join(Trainee, Trainee.id == AlternativeVerification.trainee_id)
        .where(AlternativeVerification.confirmed_at.is_(None), AlternativeVerification.ended_at.is_(None))
        .order_by(AlternativeVerification.created_at))]
