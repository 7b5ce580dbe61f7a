"""Hours that can't be stretched (issue 16), each attack played on real faces: roll-call times a
client cannot compute, roll-calls per study interval (a second class gets its own), one person's
day capped across enrolments (also under concurrency), study ending at Beijing midnight, and a
script with forged flags earning nothing beyond the verified span, its pattern kept as a risk."""
import random
import threading
from datetime import datetime, time, timedelta

import flask
import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import (AuditEntry, ClassSession, Enrolment, EntryType, HoursEntry, IntervalStatus,
                        PresenceInterval, RollCallOutcome, Role, StudyRollCall, StudyState,
                        VerificationMode)
from app.models.base import utcnow
from app.clock import LOCAL_TZ
from app.services import hours, study
from app.services._tx import transaction
from tests.attendance_helpers import running_class, trainee_with_face
from tests.factories import make_user
from tests.services.test_study import face, state_of


@pytest.fixture
def world(app, faces_dir):
    # test policy: one clip answers every face check here, so the replay memory is off (it would
    # refuse the second live check); replayed roll-calls are refused in test_paced_roll_calls.py
    app.config["LIVENESS_RELAX"] = ("replay",)
    admin = make_user(Role.ADMIN)
    instructor = make_user(Role.INSTRUCTOR)
    user, trainee = trainee_with_face(admin, "student1")
    first = running_class(admin, instructor, [trainee], start=utcnow() - timedelta(minutes=120),
                          minutes=600, online=True)
    second = running_class(admin, instructor, [trainee], start=utcnow() - timedelta(minutes=60),
                           minutes=600, online=True)
    return {"admin": admin, "user": user, "trainee": trainee, "first": first, "second": second}


def _open_interval(trainee):
    db.session.rollback()
    return db.session.scalar(select(PresenceInterval).where(PresenceInterval.trainee_id == trainee.id,
                                                            PresenceInterval.status == IntervalStatus.OPEN))


def _study_for(world, minutes):
    """Start study, pretend ``minutes`` were counted over the last ``minutes + 5`` minutes, end
    it with a face: the minutes credited."""
    assert face(world["user"], "check_in").accepted
    with transaction() as session:
        session.execute(update(StudyState).where(StudyState.trainee_id == world["trainee"].id)
                        .values(counted_seconds=minutes * 60 + 30))
        session.execute(update(PresenceInterval).where(PresenceInterval.status == IntervalStatus.OPEN)
                        .values(opened_at=utcnow() - timedelta(minutes=minutes + 5)))
    out = face(world["user"], "check_out")
    assert out.accepted, out
    return out.minutes_credited


def test_roll_call_times_come_from_the_server_secret_not_the_interval_id(world, app):
    assert face(world["user"], "check_in").accepted
    interval = _open_interval(world["trainee"])
    window = 30 * 60
    times = [study.roll_call_time(interval, k) for k in range(16)]
    for k, at in enumerate(times):       # one in each 30-minute window, anywhere within it
        assert k * window <= (at - interval.opened_at).total_seconds() < (k + 1) * window
    assert state_of(world["trainee"]).next_roll_call_at == times[0]
    # the attack: predict from the interval id the client was given, as with the old seeding
    predicted = [random.Random(f"{interval.id}:{n}").uniform(0, 1) * window for n in range(16)]
    offsets = [(at - interval.opened_at).total_seconds() - k * window for k, at in enumerate(times)]
    assert [int(p) for p in predicted] != [int(o) for o in offsets]
    # the times depend on a key the database and the client never see
    secret = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = secret + "-another-server"
    try:
        assert [study.roll_call_time(interval, k) for k in range(16)] != times
    finally:
        app.config["SECRET_KEY"] = secret
    body = study.heartbeat(world["user"])
    assert interval.id.hex not in str(body) and "next_roll_call" not in str(body)


def _within_the_beijing_day(world, hours_):
    """When ``hours_`` of simulated study from now would cross Beijing midnight (which ends a
    study: tested on its own below, at chosen instants), move the open study, its state and every
    class session back by the overshoot, as if the trainee had started that much earlier."""
    now = utcnow()
    midnight = datetime.combine(now.astimezone(LOCAL_TZ).date() + timedelta(days=1), time(0), tzinfo=LOCAL_TZ)
    overshoot = now + timedelta(hours=hours_, minutes=10) - midnight
    if overshoot <= timedelta(0):
        return
    with transaction() as session:
        for cs in session.scalars(select(ClassSession)):
            cs.starts_at, cs.ends_at = cs.starts_at - overshoot, cs.ends_at - overshoot
        interval = session.scalar(select(PresenceInterval).where(PresenceInterval.status == IntervalStatus.OPEN))
        interval.opened_at -= overshoot
        interval.last_verified_at -= overshoot
        state = session.scalar(select(StudyState).where(StudyState.interval_id == interval.id))
        state.last_heartbeat_at -= overshoot
        state.next_roll_call_at -= overshoot   # the secret offset from the opening is unchanged


def _beat_through(world, hours_, answer=True, interactions=1, step=30):
    """Heartbeats every ``step`` seconds of simulated time over ``hours_`` hours from the start
    (within one Beijing day); due roll-calls marked passed (as a face answer would) when
    ``answer``. Returns the statuses."""
    _within_the_beijing_day(world, hours_)
    interval = _open_interval(world["trainee"])
    statuses = []
    for i in range(1, int(hours_ * 3600 / step) + 1):
        now = interval.opened_at + timedelta(seconds=i * step)
        with transaction() as session:   # the previous beat was one step ago
            session.execute(update(StudyState).where(StudyState.interval_id == interval.id)
                            .values(last_heartbeat_at=now - timedelta(seconds=step)))
        statuses.append(study.heartbeat(world["user"], interactions=interactions, now=now))
        if answer and statuses[-1]["roll_call"]:
            with transaction() as session:
                session.execute(update(StudyRollCall).where(StudyRollCall.outcome == RollCallOutcome.PENDING)
                                .values(outcome=RollCallOutcome.PASSED, resolved_at=now))
    return interval, statuses


def test_one_roll_call_in_each_window_and_a_second_class_gets_its_own(world):
    assert _study_for(world, 10) == 10       # the first class's study, ended
    with transaction() as session:           # as if the old day's budget of 8 were spent already
        for _ in range(8):
            session.add(StudyRollCall(interval_id=session.scalar(select(PresenceInterval.id)),
                                      trainee_id=world["trainee"].id, local_day=utcnow().date(),
                                      due_at=utcnow(), deadline=utcnow(), outcome=RollCallOutcome.PASSED))
        session.execute(update(ClassSession).where(ClassSession.class_id == world["first"].id)
                        .values(ends_at=utcnow() - timedelta(minutes=30)))
    assert face(world["user"], "check_in").accepted
    interval, _statuses = _beat_through(world, 2)
    assert interval.enrolment.class_id == world["second"].id
    db.session.rollback()
    due = sorted(db.session.scalars(select(StudyRollCall.due_at).where(StudyRollCall.interval_id == interval.id)))
    # 2 hours: one roll-call in each 30-minute window, at its secret time
    assert due == [study.roll_call_time(interval, k) for k in range(4)]


def test_the_two_class_day_is_capped_for_the_person(world, app):
    # the three studies below are backdated up to 35 minutes from the real clock (face checks run
    # on it): just after Beijing midnight they would begin on the day before, which is not the day
    # under test (the midnight split itself is tested below, at chosen instants)
    if utcnow().astimezone(LOCAL_TZ).time() < time(0, 45):
        pytest.skip("the backdated studies would start before Beijing midnight")
    app.config["PERSON_DAILY_CAP_MINUTES"] = 40   # 480 in production: the same rule, shorter days
    with transaction() as session:               # the sessions cover the whole Beijing day
        day = utcnow().astimezone(LOCAL_TZ).date()
        for minute, klass in enumerate((world["first"], world["second"])):   # the first class first
            session.execute(update(ClassSession).where(ClassSession.class_id == klass.id).values(
                starts_at=datetime.combine(day, time(0, minute), tzinfo=LOCAL_TZ),
                ends_at=datetime.combine(day, time(23, 59), tzinfo=LOCAL_TZ)))
    assert _study_for(world, 30) == 30
    with transaction() as session:               # the first class is over; the second runs on
        session.execute(update(ClassSession).where(ClassSession.class_id == world["first"].id)
                        .values(ends_at=utcnow() - timedelta(minutes=1)))
    assert _study_for(world, 30) == 10           # the second class, same Beijing day
    assert _study_for(world, 30) == 0
    db.session.rollback()
    entries = db.session.scalars(select(HoursEntry).order_by(HoursEntry.at)).all()
    assert [e.minutes for e in entries] == [30, 10, 0]
    assert entries[1].rule["person_capped"] is True and entries[1].rule["person_daily_cap_minutes"] == 40
    assert len({e.enrolment_id for e in entries}) == 2
    assert hours.person_day_total(db.session, world["trainee"].id, entries[0].local_day) == 40


def test_the_person_cap_holds_when_two_credits_race(world, app):
    """Two closed intervals of one trainee in two classes credited at once: on PostgreSQL the
    trainee's lock makes the second see the first, so 300 + 300 becomes 300 + 180."""
    enrolments = db.session.scalars(select(Enrolment).where(Enrolment.trainee_id == world["trainee"].id)).all()
    ids = []
    base = datetime.combine(utcnow().astimezone(LOCAL_TZ).date(), time(1), tzinfo=LOCAL_TZ)
    with transaction() as session:
        for k, enrolment in enumerate(enrolments):
            cs = session.scalar(select(ClassSession).where(ClassSession.class_id == enrolment.class_id))
            opened = base + timedelta(minutes=305 * k)
            interval = PresenceInterval(enrolment_id=enrolment.id, trainee_id=world["trainee"].id,
                                        session_id=cs.id, mode=VerificationMode.PERSONAL,
                                        status=IntervalStatus.CLOSED, opened_at=opened, last_verified_at=opened,
                                        closed_at=opened + timedelta(minutes=300))
            cs.starts_at, cs.ends_at = base, base + timedelta(hours=12)
            session.add(interval)
            session.flush()
            ids.append(interval.id)
    flask_app = flask.current_app._get_current_object()
    barrier, errors = threading.Barrier(2), []

    def credit(interval_id):
        with flask_app.app_context():
            try:
                barrier.wait()
                with transaction() as session:
                    hours.credit_interval(session, session.get(PresenceInterval, interval_id), None)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    workers = [threading.Thread(target=credit, args=(i,)) for i in ids]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert not errors, errors
    db.session.rollback()
    minutes = sorted(db.session.scalars(select(HoursEntry.minutes)))
    assert minutes == [180, 300], minutes


def test_study_ends_at_beijing_midnight_and_the_next_day_is_its_own(world):
    assert face(world["user"], "check_in").accepted
    today = utcnow().astimezone(LOCAL_TZ).date()
    midnight = datetime.combine(today + timedelta(days=1), time(0), tzinfo=LOCAL_TZ)
    with transaction() as session:
        session.execute(update(ClassSession).values(starts_at=midnight - timedelta(hours=2),
                                                    ends_at=midnight + timedelta(hours=8)))
        session.execute(update(PresenceInterval).values(opened_at=midnight - timedelta(minutes=20)))
        session.execute(update(StudyState).values(counted_seconds=15 * 60, verified_seconds=15 * 60,
                                                  last_heartbeat_at=midnight - timedelta(seconds=10),
                                                  next_roll_call_at=midnight + timedelta(hours=1)))
    body = study.heartbeat(world["user"], now=midnight + timedelta(seconds=20))
    assert body["studying"] is False and body["ended"] == "day_ended" and "午夜" in body["message"]
    assert body["counted_now"] == 10                    # up to midnight only
    assert body["minutes_credited"] == 15               # the span up to the last verified face
    db.session.rollback()
    entry = db.session.scalar(select(HoursEntry))
    interval = db.session.scalar(select(PresenceInterval))
    assert entry.local_day == today and interval.closed_at == midnight and interval.open_slot is None
    assert study.status(world["user"]) is None


def test_a_script_with_forged_flags_earns_nothing_beyond_the_verified_span(world):
    """No page: exact 30 s beats claiming visible and active for 3 hours (the overnight
    script, shortened), no interaction, roll-calls never
    answered. The first missed roll-call pauses accrual; the study closed for idleness is
    credited the verified span (nothing), and the pattern is kept as risk signals."""
    assert face(world["user"], "check_in").accepted
    interval, statuses = _beat_through(world, 3, answer=False, interactions=0)
    assert any(s["roll_call_missed"] for s in statuses)
    paused_from = next(i for i, s in enumerate(statuses) if s["paused"])
    assert all(s["counted_now"] == 0 for s in statuses[paused_from + 1:])
    state = state_of(world["trainee"])
    assert state.counted_seconds <= 30 * 60 + 60 and state.verified_seconds == 0
    assert {"heartbeats_too_regular", "no_interaction"} <= set(state.risk_signals)
    assert study.close_idle_study(now=state.last_heartbeat_at + timedelta(minutes=31)) == 1
    db.session.rollback()
    entry = db.session.scalar(select(HoursEntry).where(HoursEntry.interval_id == interval.id))
    assert entry.minutes == 0 and entry.entry_type == EntryType.CREDIT
    assert set(entry.rule["study_risk_signals"]) >= {"heartbeats_too_regular", "no_interaction"}
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "study.risk_signal")) >= 1


def test_an_honest_jittered_page_raises_no_regularity_signal(world):
    assert face(world["user"], "check_in").accepted
    _within_the_beijing_day(world, 0.75)
    interval = _open_interval(world["trainee"])
    rng, at = random.Random(16), interval.opened_at
    for _ in range(60):
        step = rng.uniform(22.5, 37.5)        # study.js jitters each beat by ±25 %
        with transaction() as session:
            session.execute(update(StudyState).values(last_heartbeat_at=at))
        at += timedelta(seconds=step)
        study.heartbeat(world["user"], interactions=3, now=at)
        with transaction() as session:
            session.execute(update(StudyRollCall).values(outcome=RollCallOutcome.PASSED))
    assert state_of(world["trainee"]).risk_signals == []
