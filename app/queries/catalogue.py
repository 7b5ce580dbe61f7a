"""Reads of the catalogues."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.models import (EvaluationOrganisation, Institution, ListingStatus, Occupation, Programme,
                        Role, ShortageListing, User)

LISTED_MODELS = {
    "occupation": Occupation,
    "programme": Programme,
    "evaluation_organisation": EvaluationOrganisation,
    "institution": Institution,
}


def list_entries(session: Session, kind: str) -> list:
    """Every entry of one catalogue, listed and revoked, by code."""
    model = LISTED_MODELS[kind]
    query = select(model).order_by(model.code)
    if model is Programme:
        query = query.options(selectinload(Programme.standards), selectinload(Programme.occupation))
    return list(session.scalars(query))


def list_listed(session: Session, kind: str) -> list:
    """Only the entries currently listed (what new classes and certificates may use)."""
    model = LISTED_MODELS[kind]
    return list(session.scalars(select(model).where(model.status == ListingStatus.LISTED)
                                .order_by(model.code)))


def list_shortage_listings(session: Session) -> list[ShortageListing]:
    """The urgent-shortage list, newest period first."""
    return list(session.scalars(select(ShortageListing).options(selectinload(ShortageListing.occupation))
                                .order_by(ShortageListing.effective_from.desc())))


def list_instructors(session: Session, institution_id=None) -> list[User]:
    """Active instructor accounts, of one institution when given."""
    query = select(User).where(User.role == Role.INSTRUCTOR, User.active.is_(True))
    if institution_id is not None:
        query = query.where(User.institution_id == institution_id)
    return list(session.scalars(query.order_by(User.username)))
