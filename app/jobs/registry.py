"""The recurring jobs: name → (function, trigger arguments). Job functions take no arguments
and run inside an app context; each calls one service."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.services.classes import start_due_classes
from app.services.hours import close_stale_intervals


@dataclass(frozen=True)
class RecurringJob:
    """A job the scheduler keeps: what to call and an APScheduler trigger."""

    func: Callable[[], object]
    trigger: str
    trigger_args: dict


def _start_due_classes() -> str:
    started = start_due_classes()
    return f"{len(started)} classes started"


def _close_stale_intervals() -> str:
    return f"{close_stale_intervals()} presence intervals closed"


RECURRING_JOBS: dict[str, RecurringJob] = {
    "start_due_classes": RecurringJob(_start_due_classes, "interval", {"minutes": 1}),
    "close_stale_intervals": RecurringJob(_close_stale_intervals, "interval", {"minutes": 5}),
}
