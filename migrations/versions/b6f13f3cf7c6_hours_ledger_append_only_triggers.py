"""hours ledger append-only triggers

Revision ID: b6f13f3cf7c6
Revises: b83c2b7cdda2
Create Date: 2026-11-23 17:33:00

The DDL lives in app/models/ledger_guard.py, shared with ``create_all``. Note for later
revisions: a SQLite ``batch_alter_table("hours_ledger")`` re-creates the table and drops its
triggers, so such a revision must run ``guard_ddl("sqlite")`` again.
"""
from alembic import op

from app.models.ledger_guard import drop_guard_ddl, guard_ddl


# revision identifiers, used by Alembic.
revision = 'b6f13f3cf7c6'
down_revision = 'b83c2b7cdda2'
branch_labels = None
depends_on = None


def upgrade():
    for statement in guard_ddl(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade():
    for statement in drop_guard_ddl(op.get_bind().dialect.name):
        op.execute(statement)
