"""Reads of final assessments and completion certificates."""
from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Assessment, CompletionCertificate, Enrolment


def get_class_assessments(session: Session, class_id) -> dict[uuid.UUID, Assessment]:
    """The assessments of a class's enrolments, by enrolment id."""
    rows = session.scalars(select(Assessment).join(Enrolment, Enrolment.id == Assessment.enrolment_id)
                           .where(Enrolment.class_id == class_id))
    return {a.enrolment_id: a for a in rows}


def get_class_certificates(session: Session, class_id) -> dict[uuid.UUID, CompletionCertificate]:
    """The completion certificates of a class's enrolments, by enrolment id."""
    rows = session.scalars(select(CompletionCertificate)
                           .join(Enrolment, Enrolment.id == CompletionCertificate.enrolment_id)
                           .where(Enrolment.class_id == class_id))
    return {c.enrolment_id: c for c in rows}


def list_trainee_certificates(session: Session, trainee_id) -> list[CompletionCertificate]:
    """A trainee's completion certificates, oldest first."""
    return list(session.scalars(select(CompletionCertificate)
                                .join(Enrolment, Enrolment.id == CompletionCertificate.enrolment_id)
                                .where(Enrolment.trainee_id == trainee_id)
                                .order_by(CompletionCertificate.issued_on, CompletionCertificate.serial)))
