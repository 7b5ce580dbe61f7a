"""Plain-JSON views of models for the API; ID numbers masked except for administrators."""
from __future__ import annotations

from flask_login import current_user

from app.models import Trainee, TrainingClass
from app.services.policy import can_see_full_id
from app.services.registry import mask_account
from app.services.resident_id import mask_resident_id


def trainee_json(trainee: Trainee) -> dict:
    """The birth date only beside the full number: beside a masked one it would give back the
    eight hidden digits (and with the check digit, the whole number), so only the year is shown."""
    number = trainee.id_number if can_see_full_id(current_user) else mask_resident_id(trainee.id_number)
    born = {"birth_date": trainee.birth_date.isoformat()} if number == trainee.id_number else {}
    return {"id": str(trainee.id), "name": trainee.name, "id_number": number, **born,
            "birth_year": trainee.birth_date.year, "sex": trainee.sex.value,
            "phone": trainee.phone, "category": trainee.category, "employer": trainee.employer,
            "payee_bank": trainee.payee_bank,
            "payee_account": (trainee.payee_account if number == trainee.id_number
                              else mask_account(trainee.payee_account))}


def listed_json(entry) -> dict:
    data = {"id": str(entry.id), "code": entry.code, "name": entry.name,
            "status": entry.status.value, "status_reason": entry.status_reason}
    if hasattr(entry, "standards"):
        data.update(category=entry.category.value, level=entry.level.value if entry.level else None,
                    theory_hours=entry.theory_hours, practice_hours=entry.practice_hours,
                    delivery_mode=entry.delivery_mode.value,
                    standards=[{"amount": str(s.amount), "effective_from": s.effective_from.isoformat()}
                               for s in entry.standards])
    return data


def class_json(klass: TrainingClass, detail: bool = False) -> dict:
    data = {"id": str(klass.id), "code": klass.code, "name": klass.name, "status": klass.status.value,
            "institution_id": str(klass.institution_id), "programme_id": str(klass.programme_id),
            "start_date": klass.start_date.isoformat(), "end_date": klass.end_date.isoformat()}
    if detail:
        data.update(
            teaching_plan=klass.teaching_plan, resources=klass.resources,
            assessment_plan=klass.assessment_plan, review_comment=klass.review_comment,
            sessions=[{"id": str(s.id), "starts_at": s.starts_at.isoformat(), "ends_at": s.ends_at.isoformat(),
                       "kind": s.kind.value, "place": s.place, "online": s.online} for s in klass.sessions],
            instructors=[{"id": str(u.id), "name": u.display_name} for u in klass.instructors],
            roster=[{"enrolment_id": str(e.id), "trainee": trainee_json(e.trainee),
                     "exempted_hours": e.exempted_hours} for e in klass.enrolments])
    return data
