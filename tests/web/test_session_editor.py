"""The session editor on the class form: a repeat rule is expanded into rows for review with
nothing saved, full-width input is saved, a past session is refused with nothing saved, and the
planned hours and clash warnings are shown to the applicant and the reviewer."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.clock import local_today
from app.extensions import db
from app.models import Role, TrainingClass
from app.services.classes import draft_class
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, application, make_catalogue, make_trainee, make_user, session_at


@pytest.fixture
def world(app):
    admin = make_user(Role.ADMIN)
    institution, _occupation, programme = make_catalogue(admin)
    instructor = make_user(Role.INSTRUCTOR, institution=institution)
    make_user(Role.REVIEWER)
    return admin, institution, programme, instructor


def _form(client, institution, programme, instructor, trainee, **extra):
    token = csrf_token_from(client.get("/classes/new").text)
    return {"csrf_token": token, "code": "ED-1", "name": "编辑器班", "institution_id": str(institution.id),
            "programme_id": str(programme.id), "instructor_ids": str(instructor.id),
            "roster": trainee.id_number, "teaching_plan": "计划", "assessment_plan": "考核", **extra}


def _classes() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(TrainingClass))


def _next_monday() -> date:
    today = local_today()
    return today + timedelta(days=7 - today.weekday() + 7)


def test_session_editor_repeat_rule_is_shown_for_review_then_saved(client, auth, world):
    _admin, institution, programme, instructor = world
    trainee = make_trainee()
    auth.login("instructor", PASSWORD)
    page = client.get("/classes/new").text
    assert 'type="date" name="s_day"' in page and 'type="time" name="s_start"' in page
    monday = _next_monday()
    form = _form(client, institution, programme, instructor, trainee, action="repeat",
                 repeat_first=str(monday), repeat_last=str(monday + timedelta(days=11)),
                 repeat_weekdays=["0", "2", "4"], repeat_times="０９：００－１２：００", repeat_kind="theory",
                 repeat_place="实训楼３０１", repeat_skip=str(monday + timedelta(days=2)))
    preview = client.post("/classes/new", data=form)
    assert preview.status_code == 200 and "已在下方加入 5 节课" in preview.text
    assert _classes() == 0  # shown for review, nothing saved
    assert preview.text.count('value="09:00"') == 5
    assert f'name="s_day" value="{monday}"' in preview.text
    assert f'name="s_day" value="{monday + timedelta(days=2)}"' not in preview.text  # skipped
    assert 'id="planned-hours"' in preview.text and "= 15 学时" in preview.text
    days = [str(monday + timedelta(days=n)) for n in (0, 4, 7, 9, 11)]
    saved = client.post("/classes/new", data={**form, "action": "save", "s_day": days, "s_start": ["09：00"] * 5,
                                              "s_end": ["12:00"] * 5, "s_kind": ["theory"] * 5,
                                              "s_place": ["实训楼３０１"] * 5})
    assert saved.status_code == 302
    db.session.rollback()
    klass = db.session.scalar(select(TrainingClass).where(TrainingClass.code == "ED-1"))
    assert len(klass.sessions) == 5 and {s.place for s in klass.sessions} == {"实训楼301"}


def test_session_editor_refuses_a_past_session_with_nothing_saved(client, auth, world):
    _admin, institution, programme, instructor = world
    trainee = make_trainee()
    auth.login("instructor", PASSWORD)
    yesterday = str(local_today() - timedelta(days=1))
    form = _form(client, institution, programme, instructor, trainee, s_day=[yesterday], s_start=["09:00"],
                 s_end=["12:00"], s_kind=["theory"], s_place=["教室A"])
    refused = client.post("/classes/new", data=form)
    assert refused.status_code == 400 and "已经过去" in refused.text and 'class="field-error"' in refused.text
    assert _classes() == 0


def test_session_editor_clashes_are_shown_to_applicant_and_reviewer(client, auth, world):
    admin, institution, programme, instructor = world
    trainee = make_trainee("钱七")
    day = local_today() + timedelta(days=10)
    draft_class(admin, application(institution, programme, [instructor], [trainee], code="BUSY-1",
                                   sessions=[session_at(day, 9, 12, place="实训楼301")]))
    mine = draft_class(admin, application(institution, programme, [instructor], [trainee], code="MINE-1",
                                          sessions=[session_at(day, 10, 11, place="实训楼301")]))
    auth.login("instructor", PASSWORD)
    edit = client.get(f"/classes/{mine.id}/edit").text
    assert 'id="clash-warnings"' in edit and "BUSY-1" in edit and "钱七" in edit
    auth.logout()
    auth.login("reviewer", PASSWORD)
    page = client.get(f"/classes/{mine.id}").text
    assert 'id="clash-warnings"' in page and "同时被班级 BUSY-1 使用" in page
    assert 'id="planned-hours"' in page and "要求 40 + 40 = 80 学时" in page


def test_roster_picker_finds_own_trainees_only_and_refuses_a_foreign_pick(client, auth, world):
    admin, institution, programme, instructor = world
    from app.services.catalogue import create_listed_entry
    own = make_trainee("吴用", actor=instructor)
    other_school = create_listed_entry(admin, "institution", "OTHER-P", "别的学校")
    foreign_staff = make_user(Role.INSTRUCTOR, "foreign", institution=other_school)
    foreign = make_trainee("吴松", actor=foreign_staff)
    auth.login("instructor", PASSWORD)
    day = local_today() + timedelta(days=9)
    rows = {"s_day": [str(day)], "s_start": ["09:00"], "s_end": ["12:00"], "s_kind": ["theory"], "s_place": ["A"]}
    form = {**_form(client, institution, programme, instructor, own, **rows), "roster": ""}
    by_name = client.post("/classes/new", data={**form, "action": "search", "roster_query": "吴"}).text
    assert "吴用" in by_name and "吴松" not in by_name and _classes() == 0
    by_tail = client.post("/classes/new", data={**form, "action": "search", "roster_query": own.id_number[-4:]}).text
    assert f'value="{own.id}"' in by_tail and f'value="{foreign.id}"' not in by_tail
    refused = client.post("/classes/new", data={**form, "roster_pick": [str(own.id), str(foreign.id)]})
    assert refused.status_code == 400 and "只能从搜索结果中选择学员" in refused.text and _classes() == 0
    saved = client.post("/classes/new", data={**form, "roster_pick": str(own.id)})
    assert saved.status_code == 302
    db.session.rollback()
    klass = db.session.scalar(select(TrainingClass).where(TrainingClass.code == "ED-1"))
    assert [e.trainee_id for e in klass.enrolments] == [own.id]
