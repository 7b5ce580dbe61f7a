"""Issue 16: online study keeps what was counted up to the last verified face and the heartbeat
pattern behind its risk signals; credits held for review (held_hours); appeals (补签, 申诉).

Revision ID: b16a4e2c7d90
Revises: a19c0de5e7a1
Create Date: 2026-12-07 00:40:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import app.models.base


# revision identifiers, used by Alembic.
revision = 'b16a4e2c7d90'
down_revision = 'a19c0de5e7a1'
branch_labels = None
depends_on = None

_INTS = ("verified_seconds", "last_gap_ms", "regular_streak", "interactions")


_JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade():
    op.create_table(
        'held_hours',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('entry_id', sa.Uuid(), nullable=False),
        sa.Column('enrolment_id', sa.Uuid(), nullable=False),
        sa.Column('class_id', sa.Uuid(), nullable=False),
        sa.Column('interval_id', sa.Uuid(), nullable=True),
        sa.Column('minutes', sa.Integer(), nullable=False),
        sa.Column('reasons', _JSON, nullable=False),
        sa.Column('status', sa.Enum('pending', 'accepted', 'rejected', name='heldstatus', native_enum=False,
                                    length=20), nullable=False),
        sa.Column('held_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('decided_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('decided_by_id', sa.Uuid(), nullable=True),
        sa.Column('decision_reason', sa.Text(), nullable=False),
        sa.Column('decision_statement_id', sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(['entry_id'], ['hours_ledger.id'], name=op.f('fk_held_hours_entry_id_hours_ledger')),
        sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'], name=op.f('fk_held_hours_enrolment_id_enrolments')),
        sa.ForeignKeyConstraint(['class_id'], ['training_classes.id'], name=op.f('fk_held_hours_class_id_training_classes')),
        sa.ForeignKeyConstraint(['interval_id'], ['presence_intervals.id'], name=op.f('fk_held_hours_interval_id_presence_intervals')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_held_hours_decided_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_held_hours')),
        sa.UniqueConstraint('entry_id', name=op.f('uq_held_hours_entry_id')),
    )
    op.create_index('ix_held_hours_enrolment_id', 'held_hours', ['enrolment_id'])
    op.create_index('ix_held_hours_class_id', 'held_hours', ['class_id'])
    op.create_table(
        'appeals',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('trainee_id', sa.Uuid(), nullable=False),
        sa.Column('enrolment_id', sa.Uuid(), nullable=False),
        sa.Column('class_id', sa.Uuid(), nullable=False),
        sa.Column('session_id', sa.Uuid(), nullable=False),
        sa.Column('missed', sa.String(length=20), nullable=False),
        sa.Column('category', sa.String(length=20), nullable=False),
        sa.Column('statement', sa.Text(), nullable=False),
        sa.Column('claimed_from', app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('claimed_to', app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('status', sa.Enum('pending', 'approved', 'rejected', name='appealstatus', native_enum=False,
                                    length=20), nullable=False),
        sa.Column('filed_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('decided_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('decided_by_id', sa.Uuid(), nullable=True),
        sa.Column('method', sa.String(length=20), nullable=False),
        sa.Column('decision_note', sa.Text(), nullable=False),
        sa.Column('interval_id', sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(['trainee_id'], ['trainees.id'], name=op.f('fk_appeals_trainee_id_trainees')),
        sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'], name=op.f('fk_appeals_enrolment_id_enrolments')),
        sa.ForeignKeyConstraint(['class_id'], ['training_classes.id'], name=op.f('fk_appeals_class_id_training_classes')),
        sa.ForeignKeyConstraint(['session_id'], ['class_sessions.id'], name=op.f('fk_appeals_session_id_class_sessions')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_appeals_decided_by_id_users')),
        sa.ForeignKeyConstraint(['interval_id'], ['presence_intervals.id'], name=op.f('fk_appeals_interval_id_presence_intervals')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_appeals')),
    )
    for column in ('trainee_id', 'enrolment_id', 'class_id'):
        op.create_index(f'ix_appeals_{column}', 'appeals', [column])
    with op.batch_alter_table('study_states') as batch:
        for name in _INTS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column('risk_signals', _JSON, nullable=False, server_default="[]"))


def downgrade():
    for column in ('trainee_id', 'enrolment_id', 'class_id'):
        op.drop_index(f'ix_appeals_{column}', table_name='appeals')
    op.drop_table('appeals')
    op.drop_index('ix_held_hours_class_id', table_name='held_hours')
    op.drop_index('ix_held_hours_enrolment_id', table_name='held_hours')
    op.drop_table('held_hours')
    with op.batch_alter_table('study_states') as batch:
        batch.drop_column('risk_signals')
        for name in reversed(_INTS):
            batch.drop_column(name)
