"""Catalogues (R6, R8): listing, revoking, standards and the shortage list by effective date."""
from datetime import date

import pytest

from app.errors.exceptions import ConflictError, ValidationError
from app.extensions import db
from app.models import ListingStatus, Role
from app.services.catalogue import (add_shortage_listing, add_subsidy_standard, create_listed_entry,
                                    create_programme, set_listing_status, shortage_listing_on,
                                    standard_on)
from tests.factories import make_catalogue, make_user


@pytest.fixture
def admin(app):
    return make_user(Role.ADMIN)


def test_standard_in_force_follows_effective_dates(admin):
    _, _, programme = make_catalogue(admin)
    add_subsidy_standard(admin, programme.id, "1500.50", date(2026, 7, 1))
    assert standard_on(db.session, programme.id, date(2025, 12, 31)) is None
    assert str(standard_on(db.session, programme.id, date(2026, 6, 30)).amount) == "1200.00"
    assert str(standard_on(db.session, programme.id, date(2026, 7, 1)).amount) == "1500.50"
    with pytest.raises(ConflictError):
        add_subsidy_standard(admin, programme.id, "1600", date(2026, 7, 1))


def on_list(occupation, day) -> bool:
    return shortage_listing_on(db.session, occupation.id, day) is not None


def test_shortage_list_by_date(admin):
    _, occupation, _ = make_catalogue(admin)
    add_shortage_listing(admin, occupation.id, date(2026, 3, 1), date(2026, 8, 31))
    assert not on_list(occupation, date(2026, 2, 28))
    assert on_list(occupation, date(2026, 3, 1))
    assert on_list(occupation, date(2026, 8, 31))
    assert not on_list(occupation, date(2026, 9, 1))
    with pytest.raises(ValidationError):
        add_shortage_listing(admin, occupation.id, date(2026, 9, 1), date(2026, 8, 1))


def test_revoke_needs_reason_and_keeps_entry(admin):
    _, _, programme = make_catalogue(admin)
    with pytest.raises(ValidationError):
        set_listing_status(admin, "programme", programme.id, False, "  ")
    set_listing_status(admin, "programme", programme.id, False, "违规清退：虚报学员")
    db.session.refresh(programme)
    assert programme.status is ListingStatus.REVOKED and programme.status_reason == "违规清退：虚报学员"


def test_programme_on_revoked_occupation_is_refused(admin):
    _, occupation, _ = make_catalogue(admin)
    set_listing_status(admin, "occupation", occupation.id, False, "目录调整")
    with pytest.raises(ValidationError) as info:
        create_programme(admin, code="P-X", name="x", occupation_id=occupation.id, level="level_4",
                         category="upgrading", theory_hours=10, practice_hours=10,
                         delivery_mode="online", subsidy_amount="800", subsidy_from=date(2026, 1, 1))
    assert "occupation_id" in info.value.errors


@pytest.mark.parametrize("overrides, field", [
    ({"level": "level_9"}, "level"), ({"category": "leisure"}, "category"),
    ({"subsidy_amount": "-5"}, "subsidy_amount"), ({"subsidy_amount": "abc"}, "subsidy_amount"),
    ({"theory_hours": -1}, "theory_hours"), ({"delivery_mode": "mail"}, "delivery_mode"),
])
def test_programme_fields_are_validated(admin, overrides, field):
    occupation = create_listed_entry(admin, "occupation", "6-00-00-01", "测试工种")
    values = dict(code="P-Y", name="y", occupation_id=occupation.id, level="level_5",
                  category="employment", theory_hours=10, practice_hours=10,
                  delivery_mode="offline", subsidy_amount="900", subsidy_from=date(2026, 1, 1))
    with pytest.raises(ValidationError) as info:
        create_programme(admin, **{**values, **overrides})
    assert field in info.value.errors


def test_duplicate_code_is_refused(admin):
    create_listed_entry(admin, "institution", "I-1", "一校")
    with pytest.raises(ConflictError):
        create_listed_entry(admin, "institution", "I-1", "二校")
