"""The scheduler's job table, declared here so that the migrations create it like every other
table (APScheduler's SQLAlchemy job store would otherwise create it on first start)."""
from sqlalchemy import Column, Float, LargeBinary, Table, Unicode

from app.models.base import Base

# Mirrors apscheduler.jobstores.sqlalchemy.SQLAlchemyJobStore (APScheduler 3).
scheduler_jobs = Table(
    "apscheduler_jobs",
    Base.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
