"""Issue 19: one-time activation codes for trainee accounts (account_activations).

Revision ID: a19c0de5e7a1
Revises: 9e5d3c7a1f42
Create Date: 2026-12-07 00:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.models.base


# revision identifiers, used by Alembic.
revision = 'a19c0de5e7a1'
down_revision = '9e5d3c7a1f42'
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


def downgrade():
    op.drop_table('account_activations')
