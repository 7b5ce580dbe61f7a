"""Issue 16: hour rules versioned by effective date (standard-hour length, practical share,
roll-call rate) and the rule version that credited each ledger line; an appeal's witnessed face
check (its paced challenge and verification); make-up study claims (makeup_claims).

Existing rules become version 1, in force from 2000-01-01 (as they applied to every credit so
far), with a standard hour of 45 minutes when they counted by 课时, else 60, and the default
roll-call rate. ``hours_ledger.hour_rule_id`` is added in place (ALTER TABLE ADD COLUMN) so the
table, its append-only triggers and its SQLite walk indexes are kept.

Revision ID: b16b5f1a3c77
Revises: d15a7c3e9b21
Create Date: 2026-12-07 03:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.models.base

from app.models.ledger_guard import guard_ddl


# revision identifiers, used by Alembic.
revision = 'b16b5f1a3c77'
down_revision = 'd15a7c3e9b21'
branch_labels = None
depends_on = None


def upgrade():
    _upgrade_appeals()
    op.create_table('makeup_claims',
    sa.Column('trainee_id', sa.Uuid(), nullable=False),
    sa.Column('enrolment_id', sa.Uuid(), nullable=False),
    sa.Column('source_interval_id', sa.Uuid(), nullable=False),
    sa.Column('missing_minutes', sa.Integer(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('claimed_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('study_interval_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'], name=op.f('fk_makeup_claims_enrolment_id_enrolments')),
    sa.ForeignKeyConstraint(['source_interval_id'], ['presence_intervals.id'], name=op.f('fk_makeup_claims_source_interval_id_presence_intervals')),
    sa.ForeignKeyConstraint(['study_interval_id'], ['presence_intervals.id'], name=op.f('fk_makeup_claims_study_interval_id_presence_intervals')),
    sa.ForeignKeyConstraint(['trainee_id'], ['trainees.id'], name=op.f('fk_makeup_claims_trainee_id_trainees')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_makeup_claims')),
    sa.UniqueConstraint('source_interval_id', name=op.f('uq_makeup_claims_source_interval_id')),
    sa.UniqueConstraint('study_interval_id', name=op.f('uq_makeup_claims_study_interval_id'))
    )
    with op.batch_alter_table('makeup_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_makeup_claims_trainee_id'), ['trainee_id'], unique=False)
    with op.batch_alter_table('hour_rules', schema=None) as batch_op:
        batch_op.drop_constraint('uq_hour_rules_programme_id', type_='unique')
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('effective_from', sa.Date(), nullable=False,
                                      server_default=sa.text("'2000-01-01'")))
        batch_op.add_column(sa.Column('hour_length_minutes', sa.Integer(), nullable=False, server_default='60'))
        batch_op.add_column(sa.Column('practical_percent', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('roll_calls_per_hour', sa.Integer(), nullable=False, server_default='2'))
        batch_op.add_column(sa.Column('set_by_id', sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_hour_rules_set_by_id_users'), 'users', ['set_by_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_hour_rules_programme_id'), ['programme_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_hour_rules_programme_version'), ['programme_id', 'version'])
        batch_op.create_unique_constraint(batch_op.f('uq_hour_rules_programme_effective_from'),
                                          ['programme_id', 'effective_from'])
    op.execute("UPDATE hour_rules SET hour_length_minutes = 45 WHERE unit_minutes = 45")
    with op.batch_alter_table('hour_rules', schema=None) as batch_op:
        for name in ('version', 'effective_from', 'hour_length_minutes', 'practical_percent', 'roll_calls_per_hour'):
            batch_op.alter_column(name, server_default=None)
    if op.get_bind().dialect.name == 'sqlite':  # inline REFERENCES: no copy of the table
        op.execute("ALTER TABLE hours_ledger ADD COLUMN hour_rule_id CHAR(32) CONSTRAINT "
                   "fk_hours_ledger_hour_rule_id_hour_rules REFERENCES hour_rules (id)")
    else:
        op.add_column('hours_ledger', sa.Column('hour_rule_id', sa.Uuid(), nullable=True))
        op.create_foreign_key(op.f('fk_hours_ledger_hour_rule_id_hour_rules'), 'hours_ledger', 'hour_rules',
                              ['hour_rule_id'], ['id'])


def _upgrade_appeals():
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('witness_challenge_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('witness_verification_id', sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_appeals_witness_challenge_id_check_in_challenges'),
                                    'check_in_challenges', ['witness_challenge_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_appeals_witness_verification_id_face_verifications'),
                                    'face_verifications', ['witness_verification_id'], ['id'])


def downgrade():
    op.drop_table('makeup_claims')
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_appeals_witness_verification_id_face_verifications'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_appeals_witness_challenge_id_check_in_challenges'),
                                 type_='foreignkey')
        batch_op.drop_column('witness_verification_id')
        batch_op.drop_column('witness_challenge_id')
    if op.get_bind().dialect.name == 'sqlite':  # DROP COLUMN of a REFERENCES column is refused
        with op.batch_alter_table('hours_ledger', schema=None) as batch_op:
            batch_op.drop_column('hour_rule_id')
        for statement in guard_ddl('sqlite'):
            op.execute(statement)
    else:
        op.drop_constraint(op.f('fk_hours_ledger_hour_rule_id_hour_rules'), 'hours_ledger', type_='foreignkey')
        op.drop_column('hours_ledger', 'hour_rule_id')
    # only the newest version of each programme's rule survives the downgrade
    op.execute("DELETE FROM hour_rules WHERE version < (SELECT MAX(h.version) FROM hour_rules h "
               "WHERE h.programme_id = hour_rules.programme_id)")
    with op.batch_alter_table('hour_rules', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_hour_rules_programme_effective_from'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_hour_rules_programme_version'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_hour_rules_programme_id'))
        batch_op.drop_constraint(batch_op.f('fk_hour_rules_set_by_id_users'), type_='foreignkey')
        for name in ('set_by_id', 'roll_calls_per_hour', 'practical_percent', 'hour_length_minutes',
                     'effective_from', 'version'):
            batch_op.drop_column(name)
        batch_op.create_unique_constraint(batch_op.f('uq_hour_rules_programme_id'), ['programme_id'])
