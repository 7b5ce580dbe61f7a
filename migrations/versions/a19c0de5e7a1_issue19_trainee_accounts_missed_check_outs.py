"""Issue 19: one-time activation codes for trainee accounts (account_activations); why a presence
interval closed, and instructors' corrections of missed check-outs (presence_intervals); the
claim workflow (subsidy_claims status, review, public notice, payment; line reviews).

Revision ID: a19c0de5e7a1
Revises: d14b0c7e5a21
Create Date: 2026-12-07 00:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.models.base


# revision identifiers, used by Alembic.
revision = 'a19c0de5e7a1'
down_revision = 'd14b0c7e5a21'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('account_activations',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('used_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('issued_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('issued_by_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_account_activations_issued_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_account_activations_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_activations')),
    sa.UniqueConstraint('user_id', name=op.f('uq_account_activations_user_id'))
    )
    with op.batch_alter_table('presence_intervals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('close_reason', sa.String(length=40), server_default='', nullable=False))
        batch_op.add_column(sa.Column('corrects_interval_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('correction_reason', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('correction_evidence', sa.Text(), server_default='', nullable=False))
        batch_op.create_unique_constraint(batch_op.f('uq_presence_intervals_corrects_interval_id'), ['corrects_interval_id'])
        batch_op.create_foreign_key(batch_op.f('fk_presence_intervals_corrects_interval_id_presence_intervals'),
                                    'presence_intervals', ['corrects_interval_id'], ['id'])
    with op.batch_alter_table('subsidy_claims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.Enum('prepared', 'submitted', 'returned', 'in_notice', 'paid',
                                                        name='claimstatus', native_enum=False, length=20),
                                      server_default='prepared', nullable=False))
        batch_op.add_column(sa.Column('submitted_at', app.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('submitted_by_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('reviewed_at', app.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reviewed_by_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('accepted_amount', sa.Numeric(precision=12, scale=2), nullable=True))
        batch_op.add_column(sa.Column('notice_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('notice_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('paid_at', app.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('paid_by_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('payment_reference', sa.String(length=100), server_default='', nullable=False))
        for column in ('submitted_by_id', 'reviewed_by_id', 'paid_by_id'):
            batch_op.create_foreign_key(batch_op.f(f'fk_subsidy_claims_{column}_users'), 'users', [column], ['id'])
    with op.batch_alter_table('subsidy_claim_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review', sa.String(length=20), server_default='', nullable=False))
        batch_op.add_column(sa.Column('review_reason', sa.Text(), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('subsidy_claim_lines', schema=None) as batch_op:
        batch_op.drop_column('review_reason')
        batch_op.drop_column('review')
    with op.batch_alter_table('subsidy_claims', schema=None) as batch_op:
        for column in ('submitted_by_id', 'reviewed_by_id', 'paid_by_id'):
            batch_op.drop_constraint(batch_op.f(f'fk_subsidy_claims_{column}_users'), type_='foreignkey')
        for column in ('payment_reference', 'paid_by_id', 'paid_at', 'notice_until', 'notice_from',
                       'accepted_amount', 'reviewed_by_id', 'reviewed_at', 'submitted_by_id', 'submitted_at',
                       'status'):
            batch_op.drop_column(column)
    with op.batch_alter_table('presence_intervals', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_presence_intervals_corrects_interval_id_presence_intervals'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_presence_intervals_corrects_interval_id'), type_='unique')
        batch_op.drop_column('correction_evidence')
        batch_op.drop_column('correction_reason')
        batch_op.drop_column('corrects_interval_id')
        batch_op.drop_column('close_reason')
    op.drop_table('account_activations')
