"""What the trainee's check-in page says before the face action: today's sessions, the open
presence ("已于 09:03 在 实训楼301 签到") and why a check-in cannot happen now, decided by the
rules the check applies (`attendance.find_session`, the lock-out, the face template) and reading
only: no class is opened and nothing is written."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.clock import local_today
from app.extensions import db
from app.models import ClassSession, PresenceInterval, Purpose, TrainingClass
from app.models.base import utcnow
from app.queries import attendance as queries
from app.queries import biometrics as bio_queries
from app.services.attendance import find_session
from app.services.consent import active_consent
from app.services.face_check_record import is_locked_out
from app.services.refusals import Refusal, refusal_message


@dataclass(frozen=True)
class CheckOutlook:
    """Today's sessions (Beijing day), the open presence if any, and why a check-in cannot
    happen now (a `refusals.Refusal` code, "" if it can)."""

    sessions: list[tuple[TrainingClass, ClassSession]]
    open_interval: PresenceInterval | None
    blocker: str

    @property
    def message(self) -> str:
        """The blocker in words ("" when a check-in can happen)."""
        return refusal_message(self.blocker) if self.blocker else ""

    @property
    def check_in_blocked(self) -> bool:
        """The page disables its check-in button: a blocker is named."""
        return bool(self.blocker)

    @property
    def check_out_blocked(self) -> bool:
        """The page disables its check-out button: a blocker is named and it is not the open
        presence (locked out, no face to compare with, or no session: nothing to check out of)."""
        return bool(self.blocker) and self.blocker != Refusal.ALREADY_CHECKED_IN


def check_outlook(trainee_id, now: datetime | None = None) -> CheckOutlook:
    """The trainee's check-in outlook at ``now`` (default: the server's clock).

    The blocker is, in the order the check meets them: ``locked_out``; ``no_consent`` or
    ``no_template`` (no face to compare with); ``already_checked_in`` (a check-out is what is
    possible); else the session rule's own code (``outside_window``, ``class_not_running``).
    """
    now = now or utcnow()
    session = db.session
    interval = session.scalar(select(PresenceInterval).where(PresenceInterval.open_slot == trainee_id))
    if is_locked_out(trainee_id):
        blocker = "locked_out"
    elif bio_queries.get_face_template(session, trainee_id) is None:
        blocker = "no_template" if active_consent(session, trainee_id) else "no_consent"
    elif interval is not None:
        blocker = "already_checked_in"
    else:
        blocker = find_session(session, trainee_id, now, Purpose.CHECK_IN)[2]
    today = queries.list_trainee_sessions_on(session, trainee_id, local_today(now))
    return CheckOutlook(today, interval, blocker)
