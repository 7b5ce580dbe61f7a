"""Issue 16: online study keeps what was counted up to the last verified face and the heartbeat
pattern behind its risk signals.

Revision ID: b16a4e2c7d90
Revises: a19c0de5e7a1
Create Date: 2026-12-07 00:40:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = 'b16a4e2c7d90'
down_revision = 'a19c0de5e7a1'
branch_labels = None
depends_on = None

_INTS = ("verified_seconds", "last_gap_ms", "regular_streak", "interactions")


def upgrade():
    with op.batch_alter_table('study_states') as batch:
        for name in _INTS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column('risk_signals', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'),
                                   nullable=False, server_default="[]"))


def downgrade():
    with op.batch_alter_table('study_states') as batch:
        batch.drop_column('risk_signals')
        for name in reversed(_INTS):
            batch.drop_column(name)
