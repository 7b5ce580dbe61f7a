"""Issue 19: a trainee's payee details for subsidy payment (bank name, and the bank account or
social-security card number).

Revision ID: f19a7b3c5d01
Revises: e15c1a7b3d02
Create Date: 2026-12-07 03:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f19a7b3c5d01'
down_revision = 'e15c1a7b3d02'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('trainees', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payee_bank', sa.String(length=50), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('payee_account', sa.String(length=30), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('trainees', schema=None) as batch_op:
        batch_op.drop_column('payee_account')
        batch_op.drop_column('payee_bank')
