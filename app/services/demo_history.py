"""The demo seed's history, so that every page of `make run` shows real content: a short class
of institution A that ran three weeks ago and is finished, written through the services as it
would have happened — paper consent to face processing of the two trainees other than the demo
trainee (who gives it on screen when trying the app), kiosk check-ins and check-outs of its three trainees, one forgotten
check-out closed by the scheduler and corrected by the instructor (with reason and evidence),
assessments, a completion certificate for the demo trainee, and the subsidy claim walked through
the bureau's workflow: prepared, submitted, reviewed into public notice (公示) and paid.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import LOCAL_TZ
from app.models import (ClassSession, ClassStatus, DeliveryMode, Enrolment, EvaluationOrganisation, Kiosk,
                        Occupation, PresenceInterval, Programme, Purpose, SessionKind, SkillLevel,
                        SubsidyStandard, Trainee, TrainingCategory, TrainingClass, User)
from app.services import attendance, claim_workflow, hours, subsidy
from app.services._tx import transaction
from app.services.check_out_corrections import correct_missed_check_out
from app.services.consent import current_consent_text, give_consent
from app.services.completion import AssessmentInput, complete_class, issue_certificate, record_assessment

FINISHED_CODE, FINISHED_NAME = "DEMO-CLASS-DONE", "安全用电短期班（已结业演示）"
SESSIONS = ((time(9), time(12), SessionKind.THEORY, "实训楼 201"),
            (time(14), time(17), SessionKind.PRACTICE, "电工实训车间"))
PAYMENT_REFERENCE = "国库集中支付 DEMO-0001"


def _weekday_before(today: date, days: int) -> date:
    day = today - timedelta(days=days)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _at(day: date, clock: time, minutes: int = 0) -> datetime:
    return datetime.combine(day, clock, LOCAL_TZ) + timedelta(minutes=minutes)


def _catalogue(session: Session, year: int) -> tuple[Programme, EvaluationOrganisation]:
    occupation = Occupation(code="6-29-03-05", name="安全员")
    session.add(occupation)
    session.flush()
    programme = Programme(code="DEMO-SAFE-5", name="安全用电（五级/初级工）", occupation_id=occupation.id,
                          level=SkillLevel.LEVEL_5, category=TrainingCategory.EMPLOYMENT, theory_hours=3,
                          practice_hours=3, delivery_mode=DeliveryMode.OFFLINE)
    organisation = EvaluationOrganisation(code="DEMO-EVAL", name="河北演示职业技能评价中心")
    session.add_all([programme, organisation])
    session.flush()
    session.add(SubsidyStandard(programme_id=programme.id, amount=Decimal("600.00"),
                                effective_from=date(year, 1, 1)))
    return programme, organisation


def _attend(session: Session, klass: TrainingClass, kiosk: Kiosk, forgetful: Trainee) -> None:
    """Everyone checks in and out of both sessions at the kiosk, except that ``forgetful``
    never checks out of the afternoon."""
    for cs in sorted(klass.sessions, key=lambda s: s.starts_at):
        for n, enrolment in enumerate(klass.enrolments):
            attendance.record_past_kiosk_check(session, at=cs.starts_at - timedelta(minutes=5 - n),
                                               purpose=Purpose.CHECK_IN, enrolment=enrolment, cs=cs, kiosk=kiosk,
                                               distance=0.31 + n / 100, threshold=0.5)
            if not (enrolment.trainee_id == forgetful.id and cs.kind == SessionKind.PRACTICE):
                attendance.record_past_kiosk_check(session, at=cs.ends_at + timedelta(minutes=1 + n),
                                                   purpose=Purpose.CHECK_OUT, enrolment=enrolment, cs=cs,
                                                   kiosk=kiosk, distance=0.33 + n / 100, threshold=0.5)


def seed_finished_class(institution_id, instructor_id, reviewer_id, trainee_ids: list, today: date) -> bool:
    """Write the finished class and its claim unless the class exists; True when written."""
    day = _weekday_before(today, 21)
    with transaction() as session:
        if session.scalar(select(TrainingClass.id).where(TrainingClass.code == FINISHED_CODE)):
            return False
        programme, organisation = _catalogue(session, day.year)
        instructor = session.get(User, instructor_id)
        klass = TrainingClass(
            code=FINISHED_CODE, name=FINISHED_NAME, institution_id=institution_id, programme_id=programme.id,
            status=ClassStatus.RUNNING, start_date=day, end_date=day, teaching_plan="安全用电基础、触电急救、实操",
            resources="实训楼 201 教室；电工实训车间", assessment_plan="理论笔试 + 实操考核",
            sessions=[ClassSession(starts_at=_at(day, start), ends_at=_at(day, end), kind=kind, place=place)
                      for start, end, kind, place in SESSIONS], instructors=[instructor])
        session.add(klass)
        session.flush()
        trainees = [session.get(Trainee, t) for t in trainee_ids]
        for trainee in trainees:
            session.add(Enrolment(class_id=klass.id, trainee_id=trainee.id))
        session.flush()
        session.refresh(klass)
        kiosk = session.scalar(select(Kiosk).where(Kiosk.institution_id == institution_id).limit(1))
        _attend(session, klass, kiosk, forgetful=trainees[-1])
        class_id, organisation_id = klass.id, organisation.id
        enrolment_ids = [e.id for e in sorted(klass.enrolments, key=lambda e: trainee_ids.index(e.trainee_id))]
        afternoon = max(klass.sessions, key=lambda s: s.starts_at)
    _consent_on_paper(instructor_id, trainee_ids[1:])
    hours.close_stale_intervals(now=afternoon.ends_at + timedelta(hours=1))
    _correct(instructor_id, class_id, afternoon, now=_at(day + timedelta(days=1), time(9)))
    _finish(instructor_id, reviewer_id, class_id, organisation_id, enrolment_ids, day)
    return True


def _consent_on_paper(instructor_id, trainee_ids: list) -> None:
    """The trainees' signed consent forms, recorded by their institution."""
    with transaction() as session:
        instructor, version = session.get(User, instructor_id), current_consent_text(session).version
    for n, trainee_id in enumerate(trainee_ids, 2):
        give_consent(instructor, trainee_id, version, "paper", f"纸质同意书 DEMO-{n:03d}")


def _correct(instructor_id, class_id, afternoon: ClassSession, now: datetime) -> None:
    """The instructor corrects the forgotten check-out from the sign-in sheet."""
    with transaction() as session:
        interval_id = session.scalar(select(PresenceInterval.id).where(
            PresenceInterval.session_id == afternoon.id,
            PresenceInterval.close_reason == hours.NO_CHECK_OUT))
        instructor = session.get(User, instructor_id)
    correct_missed_check_out(instructor, interval_id, afternoon.ends_at, "下课时忘记签退，本人在场至下课",
                             "纸质签到表第 2 页，任课教师签字", now=now)


def _finish(instructor_id, reviewer_id, class_id, organisation_id, enrolment_ids: list, day: date) -> None:
    """Assess, complete, certify the first trainee, and walk the claim to paid."""
    with transaction() as session:
        instructor, reviewer = session.get(User, instructor_id), session.get(User, reviewer_id)
    results = (("86", "90"), ("78", "82"), ("91", "75"))
    for enrolment_id, (theory, practical) in zip(enrolment_ids, results):
        record_assessment(instructor, enrolment_id, AssessmentInput(theory, practical, day, organisation_id, ""),
                          now=_at(day, time(17, 30)))
    complete_class(instructor, class_id)
    issue_certificate(instructor, enrolment_ids[0], now=_at(day + timedelta(days=1), time(10)))
    claim = subsidy.prepare_claim(instructor, class_id)
    claim_workflow.submit_claim(instructor, claim.id, now=_at(day + timedelta(days=2), time(10)))
    decisions = {str(line.id): (claim_workflow.ACCEPT, "") for line in claim.lines if line.eligible}
    claim_workflow.review_claim(reviewer, claim.id, decisions, now=_at(day + timedelta(days=3), time(15)))
    claim_workflow.mark_paid(reviewer, claim.id, PAYMENT_REFERENCE)
