"""The recurring jobs: name → (function, trigger arguments). Job functions take no arguments
and run inside an app context; each calls one service."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.services.classes import start_due_classes


@dataclass(frozen=True)
class RecurringJob:
    """A job the scheduler keeps: what to call and an APScheduler trigger."""

    func: Callable[[], object]
    trigger: str
    trigger_args: dict


def _start_due_classes() -> str:
    started = start_due_classes()
    return f"{len(started)} classes started"


RECURRING_JOBS: dict[str, RecurringJob] = {
    "start_due_classes": RecurringJob(_start_due_classes, "interval", {"minutes": 1}),
}
