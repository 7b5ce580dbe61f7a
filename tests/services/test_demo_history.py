"""The demo seed's finished class: through the services, so every record agrees — the claim is
paid after its public notice, a missed check-out was closed by the scheduler and corrected, the
demo trainee holds a certificate, and the integrity check finds nothing wrong."""
from sqlalchemy import select

from app.extensions import db
from app.models import (ClaimStatus, ClassStatus, CompletionCertificate, ConsentMethod, Enrolment, PresenceInterval,
                        SubsidyClaim, Trainee, TrainingClass, User, VerificationMode)
from app.services.consent import active_consent
from app.services.demo import seed_demo
from app.services.demo_history import FINISHED_CODE, PAYMENT_REFERENCE
from app.services.integrity import check_integrity
from tests.factories import PASSWORD


def test_the_finished_class_has_a_paid_claim_a_correction_and_clean_records(app):
    seed_demo(PASSWORD)
    klass = db.session.scalar(select(TrainingClass).where(TrainingClass.code == FINISHED_CODE))
    assert klass.status == ClassStatus.COMPLETED
    claim = db.session.scalar(select(SubsidyClaim).where(SubsidyClaim.class_id == klass.id))
    assert claim.status == ClaimStatus.PAID and claim.payment_reference == PAYMENT_REFERENCE
    assert claim.eligible_count == 3 and claim.notice_until < claim.paid_at.date()
    modes = db.session.scalars(select(PresenceInterval.mode)
                               .join(Enrolment, Enrolment.id == PresenceInterval.enrolment_id)
                               .where(Enrolment.class_id == klass.id)).all()
    assert modes.count(VerificationMode.CORRECTION) == 1 and modes.count(VerificationMode.KIOSK) == 6
    assert db.session.scalar(select(CompletionCertificate.id).limit(1)) is not None
    report = check_integrity(db.session)
    assert not report.problems, report.problems


def test_the_other_trainees_of_the_finished_class_consented_on_paper_and_the_demo_trainee_has_not(app):
    """Their faces were checked at the kiosk, so their signed forms are on record; the demo
    trainee gives consent on screen when trying the app."""
    seed_demo(PASSWORD)
    klass = db.session.scalar(select(TrainingClass).where(TrainingClass.code == FINISHED_CODE))
    trainees = db.session.scalars(select(Trainee).join(Enrolment, Enrolment.trainee_id == Trainee.id)
                                  .where(Enrolment.class_id == klass.id)).all()
    demo_user = db.session.scalar(select(User.id).where(User.username == "trainee"))
    methods = {"demo" if t.user_id == demo_user else t.name: active_consent(db.session, t.id) for t in trainees}
    assert methods.pop("demo") is None
    assert [c.method for c in methods.values()] == [ConsentMethod.PAPER] * 2
    assert all(c.paper_reference.startswith("纸质同意书") for c in methods.values())
