"""`/audit/statistics?year=`: person-times per training category against the yearly targets (with
a chart), full-time-student equivalents, verification failure rates and ID-card check counts,
per institution and overall."""
from __future__ import annotations

from datetime import datetime

from flask import current_app, render_template, request

from app.extensions import db
from app.models import Role
from app.queries.statistics import year_statistics
from app.services.classes import LOCAL_TZ
from app.web.access import role_required
from app.web.audit import bp

READERS = (Role.AUDITOR, Role.REVIEWER, Role.ADMIN)


MIN_BAR = 2  # a count above zero is never drawn thinner than this


def _label(line) -> str:
    if not line.target:
        return str(line.person_times)
    return f"{line.person_times} / {line.target} ({100 * line.person_times / line.target:.1f}%)"


def targets_chart(categories) -> dict:
    """Bar geometry (SVG user units): person-times per category, scaled to the largest count
    (so bars are visible at real numbers, far below a province's targets), with a mark at the
    target; a target beyond the scale is marked at the right edge (``beyond``) and its figure
    is in the label."""
    width, bar_h, gap, left = 480, 18, 10, 150
    scale = max([c.person_times for c in categories] + [1])
    bars = [{"y": i * (bar_h + gap) + 4, "category": c.category,
             "w": max(round(width * c.person_times / scale, 1), MIN_BAR if c.person_times else 0),
             "target_x": left + round(width * min(c.target / scale, 1), 1) if c.target else None,
             "beyond": bool(c.target and c.target > scale), "label": _label(c)}
            for i, c in enumerate(categories)]
    return {"bars": bars, "left": left, "width": width, "bar_h": bar_h,
            "height": len(bars) * (bar_h + gap) + 8}


@bp.route("/statistics")
@role_required(*READERS)
def statistics():
    """The figures of ``?year=`` (default: this year, Beijing time)."""
    this_year = datetime.now(LOCAL_TZ).year
    year = request.args.get("year", type=int) or this_year
    if not 2000 <= year <= 2100:
        year = this_year
    stats = year_statistics(db.session, year, current_app.config["STATISTICS_TARGETS"],
                            current_app.config["FULL_TIME_EQUIVALENT_RATE"])
    return render_template("audit/statistics.html", stats=stats, chart=targets_chart(stats.categories),
                           rate=current_app.config["FULL_TIME_EQUIVALENT_RATE"])
