"""Nightly reconciliation: a clean day reconciles; tampering behind the app's back (a statement
deleted, a credit's minutes changed, a credit deleted) is reported with its kind and ids."""
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, text, update

from app.clock import local_now
from app.extensions import db
from app.models import AuditEntry, FaceVerification, HoursEntry, PresenceInterval, Role
from app.services import attendance, hours
from app.services.integrity import describe
from app.services.reconciliation import Scope, find_differences, reconcile
from app.xapi_profile import VERBS
from lrs.storage.tables import Statement
from tests.attendance_helpers import backdate_check_in, running_class
from tests.factories import arrange_confirmed_alternative, make_trainee, make_user
from tests.ledger_guard import ledger_guard_lifted


@pytest.fixture
def day(app):
    """Two trainees checked in and out by ID card (verifications, intervals, credits and
    statements written by the real services), one refusal, and one credit reversed."""
    admin = make_user(Role.ADMIN)
    instructor = make_user(Role.INSTRUCTOR)
    first, second = make_trainee("张甲", actor=admin), make_trainee("李乙", actor=admin)
    running_class(admin, instructor, [first, second])
    assert not attendance.check_alternative(instructor, first.id, "check_in").accepted  # no arrangement
    entries = []
    for trainee in (first, second):
        arrange_confirmed_alternative(admin, trainee.id, "本人拒绝人脸识别")
        assert attendance.check_alternative(instructor, trainee.id, "check_in").accepted
        backdate_check_in(25, trainee.id)
        out = attendance.check_alternative(instructor, trainee.id, "check_out")
        assert out.accepted and out.minutes_credited >= 24, out
        db.session.rollback()
        entries.append(db.session.scalar(select(HoursEntry).where(HoursEntry.interval_id == out.interval_id)))
    reversal = hours.reverse_entry(instructor, entries[1].id, "代签")
    db.session.rollback()
    return {"credit": entries[0], "reversed": entries[1], "reversal": reversal}


def raw_id(value):
    """A UUID as the driver takes it in raw SQL (SQLite keeps 32 hex digits)."""
    return value.hex if db.engine.dialect.name == "sqlite" else value


def kinds(report) -> set:
    return {d.kind for d in report.differences}


def test_reconcile_clean_state_has_no_differences_and_is_audited(day, runner):
    report = reconcile()
    assert report.differences == []
    assert report.checked == {"closed_intervals": 2, "open_intervals": 0, "credits": 2, "reversals": 1,
                              "verifications": 5, "statements_referenced": 12}
    db.session.rollback()
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "hours.reconciled"))
    assert audit.actor == "system" and audit.object_id == str(report.run_id)
    assert audit.payload["differences"] == [] and audit.payload["checked"]["credits"] == 2
    result = runner.invoke(args=["hours", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "no differences" in result.output


def test_reconcile_reports_a_deleted_statement(day, runner):
    credit = day["credit"]
    interval = db.session.get(PresenceInterval, credit.interval_id)
    verification_statement = db.session.scalar(
        select(FaceVerification.statement_id).where(FaceVerification.id == interval.check_in_verification_id))
    gone = [credit.statement_id, interval.check_in_statement_id, verification_statement]
    db.session.execute(delete(Statement).where(Statement.id.in_(gone)))
    db.session.commit()
    report = reconcile()
    missing = {(d.ids["record"], d.ids["statement_id"]) for d in report.differences}
    assert kinds(report) == {"statement_missing"}
    assert missing == {("credit", str(credit.statement_id)), ("check_in", str(interval.check_in_statement_id)),
                       ("verification", str(verification_statement))}
    result = runner.invoke(args=["hours", "reconcile"])
    assert result.exit_code == 1
    assert f"statement_missing entry_id={credit.id}" in result.output


def _statement_of(interval_id, column):
    return db.session.scalar(select(column).where(PresenceInterval.id == interval_id))


def test_reconcile_reports_a_statement_of_another_verb_or_registration(day):
    interval_id = day["credit"].interval_id
    check_in = _statement_of(interval_id, PresenceInterval.check_in_statement_id)
    check_out = _statement_of(interval_id, PresenceInterval.check_out_statement_id)
    db.session.execute(update(Statement).where(Statement.id == check_in).values(verb_iri=VERBS["checked-out"][0]))
    db.session.execute(update(Statement).where(Statement.id == check_out).values(registration=uuid.uuid4()))
    db.session.commit()
    report = reconcile()
    assert [(d.kind, d.ids["record"], d.ids["interval_id"]) for d in report.differences] == [
        ("registration_mismatch", "check_out", str(interval_id)),
        ("statement_verb_mismatch", "check_in", str(interval_id))]
    assert report.differences[1].ids["statement_verb"] == VERBS["checked-out"][0]
    assert report.differences[1].ids["verb"] == VERBS["checked-in"][0]


def test_reconcile_reports_a_verification_whose_statement_says_another_decision_or_time(day):
    interval = db.session.get(PresenceInterval, day["credit"].interval_id)
    accepted = db.session.get(FaceVerification, interval.check_in_verification_id)
    refused = db.session.scalar(select(FaceVerification).where(FaceVerification.decision == "refused"))
    db.session.execute(update(Statement).where(Statement.id == accepted.statement_id)
                       .values(verb_iri=VERBS["refused"][0]))
    db.session.execute(update(Statement).where(Statement.id == refused.statement_id)
                       .values(timestamp=refused.at + timedelta(seconds=5)))
    db.session.commit()
    found = {d.ids["verification_id"]: d.ids for d in reconcile().differences
             if d.kind == "verification_mismatch"}
    assert set(found) == {str(accepted.id), str(refused.id)}
    assert (found[str(accepted.id)]["decision"], found[str(accepted.id)]["statement_decision"]) == (
        "accepted", "refused")
    assert found[str(refused.id)]["statement_at"] == (refused.at + timedelta(seconds=5)).isoformat()


def test_findings_name_stored_codes_in_words_on_the_pages_and_as_stored_for_the_cli(day):
    """The auditor's page says the action by its label, the field and decisions in words and the
    instant in Beijing time; the CLI's English keeps the codes and ISO instants a log search needs."""
    credit = day["credit"]
    interval = db.session.get(PresenceInterval, credit.interval_id)
    accepted = db.session.get(FaceVerification, interval.check_in_verification_id)
    db.session.execute(update(Statement).where(Statement.id == accepted.statement_id)
                       .values(verb_iri=VERBS["refused"][0]))
    with ledger_guard_lifted(db.session.connection()):
        db.session.execute(update(HoursEntry.__table__).where(HoursEntry.__table__.c.id == credit.id)
                           .values(minutes=credit.minutes - 5))
    db.session.commit()
    found = {(d.kind, d.ids.get("action")): describe(d) for d in reconcile().differences}
    minutes, decision = found[("audit_payload_mismatch", "hours.credited")], found[("verification_mismatch", None)]
    assert "minutes" in minutes.message and "(hours.credited)" in minutes.message
    assert "accepted at" in decision.message and "says refused" in decision.message
    assert "记入分钟数" in minutes.words and "（记入学时）" in minutes.words and "hours.credited" not in minutes.words
    beijing = f"{local_now(accepted.at):%Y-%m-%d %H:%M:%S}"
    assert f"{beijing} 通过" in decision.words and "未通过" in decision.words, decision.words
    assert "accepted" not in decision.words and "+00:00" not in decision.words


def test_reconcile_reports_minutes_changed_by_raw_sql(day):
    credit = day["credit"]
    # behind the app's back, with the ledger's triggers lifted as an intruder with DDL rights could
    with ledger_guard_lifted(db.session.connection()):
        db.session.execute(text("UPDATE hours_ledger SET minutes = minutes + 600 WHERE id = :id"),
                           {"id": raw_id(credit.id)})
    db.session.commit()
    report = reconcile()
    assert kinds(report) == {"credit_exceeds_interval", "statement_minutes_mismatch", "audit_payload_mismatch"}
    assert {d.ids["entry_id"] for d in report.differences} == {str(credit.id)}


def test_reconcile_reports_a_small_change_of_minutes(day):
    credit = day["credit"]
    with ledger_guard_lifted(db.session.connection()):
        db.session.execute(update(HoursEntry.__table__).where(HoursEntry.__table__.c.id == credit.id)
                           .values(minutes=credit.minutes - 5))
    db.session.commit()
    report = reconcile()
    assert [(d.kind, d.ids["entry_id"]) for d in report.differences] == [
        ("statement_minutes_mismatch", str(credit.id)), ("audit_payload_mismatch", str(credit.id)),
        ("audit_payload_mismatch", str(credit.id))]  # its own audit entry and its interval's closing
    assert {d.ids["action"] for d in report.differences[1:]} == {"hours.credited", "presence.closed"}


def test_reconcile_reports_a_deleted_credit(day):
    credit_id, interval_id = day["credit"].id, day["credit"].interval_id
    with ledger_guard_lifted(db.session.connection()):
        db.session.execute(text("DELETE FROM hours_ledger WHERE id = :id"), {"id": raw_id(credit_id)})
    db.session.commit()
    report = reconcile()
    assert [(d.kind, d.ids.get("interval_id") or d.ids["entry_id"]) for d in report.differences] == [
        ("interval_without_credit", str(interval_id)), ("audited_record_missing", str(credit_id))]
    assert report.differences[1].ids["action"] == "hours.credited"


def test_reconcile_reports_a_reversal_that_no_longer_matches_its_credit(day):
    reversal = day["reversal"]
    with ledger_guard_lifted(db.session.connection()):
        db.session.execute(text("UPDATE hours_ledger SET minutes = -1 WHERE id = :id"),
                           {"id": raw_id(reversal.id)})
    db.session.commit()
    report = reconcile()
    assert {(d.kind, d.ids["entry_id"]) for d in report.differences} == {
        ("reversal_minutes_mismatch", str(reversal.id)), ("statement_minutes_mismatch", str(reversal.id)),
        ("audit_payload_mismatch", str(reversal.id))}


def test_a_run_scoped_to_one_trainee_reports_only_their_presence_differences(day):
    first, second = ({"entry": e.id, "interval": e.interval_id, "scope": Scope(
        db.session.get(PresenceInterval, e.interval_id).trainee_id, (e.enrolment_id,))}
        for e in (day["credit"], day["reversed"]))
    with ledger_guard_lifted(db.session.connection()):  # the first's credit deleted, the second's cut off
        db.session.execute(text("DELETE FROM hours_ledger WHERE id = :id"), {"id": raw_id(first["entry"])})
        db.session.execute(text("UPDATE hours_ledger SET interval_id = NULL WHERE id = :id"),
                           {"id": raw_id(second["entry"])})
    db.session.commit()

    def found(scope):
        return {(d.kind, d.ids.get("entry_id") or d.ids["interval_id"])
                for d in find_differences(db.session, scope)[1]}

    first_found = {("interval_without_credit", str(first["interval"]))}
    second_found = {("interval_without_credit", str(second["interval"])),
                    ("credit_without_closed_interval", str(second["entry"]))}
    assert found(first["scope"]) == first_found
    assert found(second["scope"]) == second_found
    # a whole run also names the deleted credit from its audit entry (a scoped one cannot: it is gone)
    assert found(None) == first_found | second_found | {("audited_record_missing", str(first["entry"]))}
