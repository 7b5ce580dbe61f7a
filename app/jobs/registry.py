"""The recurring jobs: name → (function, trigger arguments). Job functions take no arguments
and run inside an app context; each calls one service."""
from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app

from app.services.checkpoints import create_checkpoint
from app.services.classes import start_due_classes
from app.services.face_images import clear_stale_buffers, purge_expired
from app.services.held_hours import pending_evidence
from app.services.forwarding import forward_pending
from app.services.hours import close_stale_intervals
from app.services.replay import purge_expired as purge_expired_fingerprints
from app.services.pipl import purge_expired_templates
from app.services.reconciliation import reconcile
from app.services.study import close_idle_study


@dataclass(frozen=True)
class RecurringJob:
    """A job the scheduler keeps: what to call and an APScheduler trigger."""

    func: Callable[[], object]
    trigger: str
    trigger_args: dict | Callable[[dict], dict]  # or built from the app's config


def _start_due_classes() -> str:
    started = start_due_classes()
    return f"{len(started)} classes started"


def _close_stale_intervals() -> str:
    return f"{close_stale_intervals()} presence intervals closed"


def _close_idle_study() -> str:
    return f"{close_idle_study()} idle study intervals closed"


def _purge_face_images() -> str:
    cleared = clear_stale_buffers()  # abandoned challenges' sealed frames and probes
    return f"{purge_expired(keep=pending_evidence())} kept face images purged, {cleared} challenge buffers cleared"


def _purge_face_fingerprints() -> str:
    return f"{purge_expired_fingerprints()} face fingerprints purged"


def _purge_face_templates() -> str:
    return f"{purge_expired_templates()} face templates purged after retention"


def _reconcile_hours() -> str:
    report = reconcile()
    found = ", ".join(f"{k} {v}" for k, v in sorted(report.counts_by_kind().items())) or "no differences"
    return f"reconciliation {report.run_id}: {found}"


def _sign_checkpoint() -> str:
    checkpoint = create_checkpoint()
    return f"checkpoint at audit entry {checkpoint.seq}, digest {checkpoint.digest}"


def _forward_statements() -> str:
    # tincan opens its HTTP connections without a timeout: bound them in this (scheduler) process
    socket.setdefaulttimeout(current_app.config["XAPI_FORWARD_TIMEOUT_SECONDS"])
    result = forward_pending()
    if result.error:
        return f"{result.sent} statements forwarded, {result.failed} failed: {result.error}"
    return f"{result.sent} statements forwarded"


RECURRING_JOBS: dict[str, RecurringJob] = {
    "start_due_classes": RecurringJob(_start_due_classes, "interval", {"minutes": 1}),
    "close_stale_intervals": RecurringJob(_close_stale_intervals, "interval", {"minutes": 5}),
    "close_idle_study": RecurringJob(_close_idle_study, "interval", {"minutes": 5}),
    "purge_face_images": RecurringJob(_purge_face_images, "interval", {"hours": 1}),
    "purge_face_fingerprints": RecurringJob(_purge_face_fingerprints, "interval", {"hours": 6}),
    "forward_statements": RecurringJob(_forward_statements, "interval", {"minutes": 1}),
    "sign_checkpoint": RecurringJob(_sign_checkpoint, "interval",
                                    lambda config: {"minutes": config["CHECKPOINT_MINUTES"]}),
    # daily, 03:10 Beijing time: templates FACE_TEMPLATE_RETENTION_DAYS after the last class
    "purge_face_templates": RecurringJob(_purge_face_templates, "cron", {"hour": 19, "minute": 10}),
    # nightly, 02:30 Beijing time (the scheduler runs in UTC)
    "reconcile_hours": RecurringJob(_reconcile_hours, "cron", {"hour": 18, "minute": 30}),
}
