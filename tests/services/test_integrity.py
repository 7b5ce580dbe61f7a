"""`flask audit verify` names every record changed behind the application's back: a ledger
entry's minutes, an interval's end, a verification's decision, a statement deleted from the
LRS, and audit entries reordered, deleted or edited."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import AuditEntry, ClassSession, FaceVerification, HoursEntry, PresenceInterval, Role
from app.services import hours
from app.services._tx import transaction
from app.models.base import utcnow
from app.services import attendance
from app.services.integrity import check_integrity
from tests.attendance_helpers import backdate_check_in, running_class
from tests.factories import arrange_confirmed_alternative, make_trainee, make_user
from tests.tamper import behind_the_back, delete_statement, set_statement_minutes


@pytest.fixture
def day(app):
    """A trainee checked in and out by ID card: verifications, an interval, a credit and their
    statements, all written by the real services."""
    admin, instructor = make_user(Role.ADMIN), make_user(Role.INSTRUCTOR)
    trainee = make_trainee("张甲", actor=admin)
    running_class(admin, instructor, [trainee])
    arrange_confirmed_alternative(admin, trainee.id, "本人拒绝人脸识别")
    assert attendance.check_alternative(instructor, trainee.id, "check_in").accepted
    backdate_check_in(25)
    out = attendance.check_alternative(instructor, trainee.id, "check_out")
    assert out.accepted and out.minutes_credited >= 24, out
    db.session.rollback()
    return db.session.scalar(select(HoursEntry).where(HoursEntry.interval_id == out.interval_id))


def verify(runner, clean: bool):
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == (0 if clean else 1), result.output
    return result.output


def test_clean_records_verify(day, runner):
    output = verify(runner, clean=True)
    assert "audit chain intact" in output and "agree" in output
    assert check_integrity(db.session).is_clean


def test_changed_ledger_minutes_are_named(app, day, runner):
    entry_id, minutes, statement_id = day.id, day.minutes, day.statement_id
    behind_the_back(app, "UPDATE hours_ledger SET minutes = minutes - 5 WHERE id = :id", id=entry_id)
    output = verify(runner, clean=False)
    assert f"ledger entry {entry_id}: {minutes - 5} minutes, its statement {statement_id} says {minutes}" in output


def test_changed_interval_end_is_named(app, day, runner):
    interval = db.session.get(PresenceInterval, day.interval_id)
    behind_the_back(app, "UPDATE presence_intervals SET closed_at = :t WHERE id = :id",
                    t=interval.closed_at + timedelta(hours=2), id=interval.id)
    assert f"interval {interval.id}: closed_at changed" in verify(runner, clean=False)


def test_interval_end_moved_before_its_credit_is_named(app, day, runner):
    interval = db.session.get(PresenceInterval, day.interval_id)
    behind_the_back(app, "UPDATE presence_intervals SET closed_at = :t WHERE id = :id",
                    t=interval.closed_at - timedelta(minutes=20), id=interval.id)
    output = verify(runner, clean=False)
    assert f"interval {interval.id}: closed_at changed" in output
    assert f"ledger entry {day.id}: {day.minutes} minutes exceed the verified time of interval {interval.id}" in output


def test_changed_verification_decision_is_named(app, day, runner):
    verification_id = db.session.get(PresenceInterval, day.interval_id).check_out_verification_id
    behind_the_back(app, "UPDATE face_verifications SET decision = 'refused' WHERE id = :id", id=verification_id)
    output = verify(runner, clean=False)
    assert f"verification {verification_id}: refused at" in output and "says accepted" in output


def test_statement_deleted_from_the_lrs_is_named(app, day, runner):
    pk = "(SELECT pk FROM lrs_statements WHERE id = :id)"
    for table in ("lrs_statement_agents", "lrs_statement_activities"):
        behind_the_back(app, f"DELETE FROM {table} WHERE statement_pk = {pk}", id=day.statement_id)
    assert behind_the_back(app, "DELETE FROM lrs_statements WHERE id = :id", id=day.statement_id) == 1
    output = verify(runner, clean=False)
    assert f"credit statement {day.statement_id} of ledger entry {day.id} is missing from the LRS" in output
    assert "audit entry" not in output


def test_reordered_audit_entries_are_named(app, day, runner):
    for old, new in ((2, 1_000_002), (3, 2), (1_000_002, 3)):
        behind_the_back(app, "UPDATE audit_entries SET seq = :new WHERE seq = :old", old=old, new=new)
    output = verify(runner, clean=False)
    assert "audit entry 2: out of order: it links to entry 3, which comes after it" in output
    assert "audit entry 3: out of order" in output and "audit entry 1:" not in output


def test_deleted_audit_entry_is_named(app, day, runner):
    behind_the_back(app, "DELETE FROM audit_entries WHERE seq = 3")
    output = verify(runner, clean=False)
    assert "audit entry 4: missing entry between 2 and 4" in output
    assert "audit entry 4: previous-hash" not in output and "audit entry 5" not in output


def test_edited_audit_payload_is_named(app, day, runner):
    behind_the_back(app, "UPDATE audit_entries SET payload = :p WHERE seq = 1", p=json.dumps({"name": "别人"}))
    output = verify(runner, clean=False)
    assert "audit entry 1: payload edited" in output
    assert "audit entry 2" not in output


def test_audit_entries_cut_from_the_end_are_named(app, day, runner):
    entry_id, interval_id = day.id, day.interval_id
    last = db.session.scalar(select(func.max(AuditEntry.seq)))
    behind_the_back(app, "DELETE FROM audit_entries WHERE seq >= :seq", seq=last - 1)  # hours.credited, presence.closed
    output = verify(runner, clean=False)
    assert "audit entry" not in output  # the chain that is left verifies
    assert f"ledger entry {entry_id}: has no entry in the audit log" in output
    assert f"interval {interval_id}:" not in output  # presence.opened is still there


@pytest.mark.parametrize("outside_the_window", [False, True])
def test_a_forgotten_check_out_closed_by_the_scheduler_verifies(app, runner, outside_the_window):
    """Ordinary life is not tampering: the scheduler closing an interval the trainee forgot to
    close writes the same evidence (a check-out statement, an audit entry, a credit) as a person
    (an interval wholly outside the session window is credited zero minutes, also clean)."""
    admin, instructor = make_user(Role.ADMIN), make_user(Role.INSTRUCTOR)
    trainee = make_trainee("张甲", actor=admin)
    running_class(admin, instructor, [trainee])
    arrange_confirmed_alternative(admin, trainee.id)
    assert attendance.check_alternative(instructor, trainee.id, "check_in").accepted
    backdate_check_in(40 if outside_the_window else 120)
    now = utcnow()
    db.session.execute(update(ClassSession).values(starts_at=now - timedelta(hours=3), ends_at=now - timedelta(hours=1)))
    db.session.execute(update(PresenceInterval).values(last_verified_at=now - timedelta(minutes=30 if outside_the_window
                                                                                        else 90)))
    db.session.commit()
    result = runner.invoke(args=["scheduler", "run", "--once"])
    assert result.exit_code == 0 and "close_stale_intervals" in result.output, result.output
    db.session.rollback()
    interval = db.session.scalar(select(PresenceInterval))
    credit = db.session.scalar(select(HoursEntry))
    assert interval.status == "closed" and interval.check_out_statement_id is not None
    assert credit.minutes == (0 if outside_the_window else 30)
    assert "presence.closed_by_scheduler" in db.session.scalars(select(AuditEntry.action)).all()
    verify(runner, clean=True)


@pytest.fixture
def long_day(app):
    """A 12-hour session: one trainee refused (no ID-card arrangement yet), then checked in and
    out by ID card for a few minutes; a second interval credited and reversed by the instructor."""
    admin, instructor = make_user(Role.ADMIN), make_user(Role.INSTRUCTOR)
    trainee = make_trainee("张甲", actor=admin)
    running_class(admin, instructor, [trainee], start=utcnow() - timedelta(hours=11), minutes=12 * 60)
    refused = attendance.check_alternative(instructor, trainee.id, "check_in")
    assert not refused.accepted
    arrange_confirmed_alternative(admin, trainee.id)
    entries = []
    for minutes in (3, 30):
        assert attendance.check_alternative(instructor, trainee.id, "check_in").accepted
        backdate_check_in(minutes)
        out = attendance.check_alternative(instructor, trainee.id, "check_out")
        db.session.rollback()
        entries.append(db.session.scalar(select(HoursEntry).where(HoursEntry.interval_id == out.interval_id)))
    reversal = hours.reverse_entry(instructor, entries[1].id, "代签")
    db.session.rollback()
    return {"credit": entries[0], "reversal": reversal,
            "refused": db.session.get(FaceVerification, refused.verification_id)}


def _audit_seq(action, object_id):
    return db.session.scalar(select(AuditEntry.seq).where(AuditEntry.action == action,
                                                          AuditEntry.object_id == str(object_id)))


def test_long_day_verifies(long_day, runner):
    verify(runner, clean=True)


def _inflate(app, credit, shift_check_in: bool):
    """Move the interval's opening 600 minutes earlier, and its credit and the credit's
    statement to match; with ``shift_check_in`` the check-in verification and its statement
    too, so that every record and statement agrees."""
    interval = db.session.get(PresenceInterval, credit.interval_id)
    verification = db.session.get(FaceVerification, interval.check_in_verification_id)
    added = 600 - credit.minutes
    opened = interval.opened_at - timedelta(minutes=added)
    behind_the_back(app, "UPDATE presence_intervals SET opened_at = :t WHERE id = :id", t=opened, id=interval.id)
    behind_the_back(app, "UPDATE hours_ledger SET minutes = 600 WHERE id = :id", id=credit.id)
    set_statement_minutes(app, credit.statement_id, 600)
    if shift_check_in:
        behind_the_back(app, "UPDATE face_verifications SET at = :t WHERE id = :id", t=opened, id=verification.id)
        behind_the_back(app, "UPDATE lrs_statements SET timestamp = :t WHERE id = :id", t=opened,
                        id=verification.statement_id)
    return interval


@pytest.mark.parametrize("shift_check_in", [False, True])
def test_a_consistent_inflation_of_an_interval_is_named(app, long_day, runner, shift_check_in):
    credit = long_day["credit"]
    credit_id, minutes = credit.id, credit.minutes
    interval_id = _inflate(app, credit, shift_check_in).id
    output = verify(runner, clean=False)
    assert "statement" not in output and "exceed" not in output  # the records and statements agree
    assert all(line in output for line in _recorded(credit_id, interval_id, minutes)), output
    assert (f"interval {interval_id}: opened_at changed" in output) is not shift_check_in


def _recorded(credit_id, interval_id, minutes) -> list[str]:
    """What verify says of a credit inflated to 600 minutes, against its own and its closing's entry."""
    return [f"ledger entry {credit_id}: minutes 600, but audit entry {_audit_seq(action, object_id)} "
            f"({action}) recorded {minutes}"
            for action, object_id in (("hours.credited", credit_id), ("presence.closed", interval_id))]


def test_the_payload_check_reads_each_payload_as_stored(app, long_day, runner):
    """The minutes the payload check compares are computed by the database from the stored payload
    whenever it is written (SQLite: an expression index; PostgreSQL: a generated column), never a
    copy an edit could leave behind: a credit entry's payload edited along with the inflation is
    what the check reads (the chain names the edit), while the closing entry still names it."""
    credit = long_day["credit"]
    credit_id, minutes, seq = credit.id, credit.minutes, _audit_seq("hours.credited", credit.id)
    interval_id = _inflate(app, credit, shift_check_in=True).id
    payload = db.session.scalar(select(AuditEntry.payload).where(AuditEntry.seq == seq))
    behind_the_back(app, "UPDATE audit_entries SET payload = :p WHERE seq = :seq",
                    p=json.dumps({**payload, "minutes": 600}), seq=seq)
    output = verify(runner, clean=False)
    assert f"audit entry {seq}: payload edited" in output
    own, closing = _recorded(credit_id, interval_id, minutes)
    assert own not in output and f"but audit entry {seq} " not in output
    assert closing in output


def test_a_minutes_column_cut_from_its_payload_is_not_trusted(app, long_day, runner):
    """PostgreSQL keeps the recorded minutes in a generated column, which the payload walks
    INCLUDE. A database owner drops its expression, which leaves a plain column, and writes the
    inflated minutes into it beside an inflation of every record and statement (the payloads and
    the chain untouched): the check no longer trusts the column (the catalog shows no expression)
    and reads the payloads, so the inflation is still named."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's walks hold an expression of the payload: there is no column to cut")
    credit = long_day["credit"]
    credit_id, minutes = credit.id, credit.minutes
    interval_id = _inflate(app, credit, shift_check_in=True).id
    behind_the_back(app, "ALTER TABLE audit_entries ALTER COLUMN payload_minutes DROP EXPRESSION")
    try:
        assert behind_the_back(app, "UPDATE audit_entries SET payload_minutes = '600' WHERE object_id IN (:e, :i) "
                                    "AND action IN ('hours.credited', 'presence.closed')",
                               e=str(credit_id), i=str(interval_id)) == 2
        output = verify(runner, clean=False)
        assert "audit entry" not in output.replace("but audit entry", "")  # the chain is intact
        assert all(line in output for line in _recorded(credit_id, interval_id, minutes)), output
    finally:
        _regenerate_the_minutes_column()


def _regenerate_the_minutes_column() -> None:
    """The run's tests share one schema: take the audit-walk migration down and up again, so the
    column is generated by its expression for the tests that follow (else every later payload
    check reads payloads, and the plan tests fail in whichever order they run)."""
    from flask_migrate import downgrade, upgrade

    db.session.remove()
    db.engine.dispose()  # no connection may hold the audit log while its column is rebuilt
    downgrade(revision="a23d1e7c4b10")  # the revision before b23e2f8d5c21 (the walks)
    upgrade()


def test_a_deleted_reversal_is_named(app, long_day, runner):
    reversal_id, statement_id = long_day["reversal"].id, long_day["reversal"].statement_id
    delete_statement(app, statement_id)
    assert behind_the_back(app, "DELETE FROM hours_ledger WHERE id = :id", id=reversal_id) == 1
    output = verify(runner, clean=False)
    assert (f"ledger entry {reversal_id}: gone, but audit entry {_audit_seq('hours.reversed', reversal_id)} "
            "(hours.reversed) records it") in output


def test_a_deleted_refusal_is_named(app, long_day, runner):
    refused_id, statement_id = long_day["refused"].id, long_day["refused"].statement_id
    delete_statement(app, statement_id)
    assert behind_the_back(app, "DELETE FROM face_verifications WHERE id = :id", id=refused_id) == 1
    output = verify(runner, clean=False)
    assert (f"verification {refused_id}: gone, but audit entry {_audit_seq('attendance.refused', refused_id)} "
            "(attendance.refused) records it") in output


def test_a_refusal_turned_into_an_acceptance_with_its_statement_is_named(app, long_day, runner):
    from app.xapi_profile import VERBS
    refused = long_day["refused"]
    behind_the_back(app, "UPDATE face_verifications SET decision = 'accepted' WHERE id = :id", id=refused.id)
    behind_the_back(app, "UPDATE lrs_statements SET verb_iri = :v WHERE id = :id", v=VERBS["verified"][0],
                    id=refused.statement_id)
    output = verify(runner, clean=False)
    assert (f"verification {refused.id}: decision accepted, but audit entry "
            f"{_audit_seq('attendance.refused', refused.id)} (attendance.refused) recorded refused") in output


def test_skilltrace_statements_can_be_voided_only_by_its_own_authority(app, long_day, client, runner):
    """An LRS client allowed to write statements tries to void SkillTrace's credit and refusal
    statements: 403, nothing voided. A voiding statement stored behind the LRS's back (here
    through the LRS's own storage function, as the database owner could) is named by verify."""
    from lrs import record_statement
    from lrs.storage.tables import Statement
    from tests.lrs.factories import make_credential, post
    from tests.lrs.factories import statement as lrs_statement

    credit_statement, refusal_statement = long_day["credit"].statement_id, long_day["refused"].statement_id
    writer = make_credential(app, scopes=("statements/write",), name="content")
    headers = {"Authorization": writer["auth"], "X-Experience-API-Version": "1.0.3"}
    voided = {"id": "http://adlnet.gov/expapi/verbs/voided"}
    for target in (credit_statement, refusal_statement):
        response = post(client, headers, lrs_statement(verb=voided, object={"objectType": "StatementRef",
                                                                           "id": str(target)}))
        assert response.status_code == 403, response.get_data(as_text=True)
    db.session.rollback()
    assert not any(db.session.scalars(select(Statement.is_voided).where(
        Statement.id.in_([credit_statement, refusal_statement]))))
    verify(runner, clean=True)
    with transaction() as session:
        voider = record_statement(session, lrs_statement(verb=voided, object={
            "objectType": "StatementRef", "id": str(credit_statement)}), {"objectType": "Agent", "name": "x",
                                                                           "mbox": "mailto:x@example.org"})
    try:
        output = verify(runner, clean=False)
        assert f"statement {credit_statement}: written by SkillTrace, voided by statement {voider}" in output
    finally:  # the LRS's tables outlive the test (the app fixture empties the app's own)
        delete_statement(app, voider)
        behind_the_back(app, "UPDATE lrs_statements SET is_voided = :f WHERE id = :id", f=False, id=credit_statement)
