"""Issue 14b: second-person confirmation of exemptions and ID-card alternatives (who confirmed,
when), the kind of a certificate (its number format depends on it), and a per-user session
version that sign-out and password changes raise, and the paper form's reference of consents
(and withdrawals) recorded by staff.

Revision ID: d14b0c7e5a21
Revises: d14a7c0e5b21
Create Date: 2026-12-07 00:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.models.base


# revision identifiers, used by Alembic.
revision = 'd14b0c7e5a21'
down_revision = 'd14a7c0e5b21'
branch_labels = None
depends_on = None

_CONFIRMED = ('exemptions', 'alternative_verifications')


def upgrade():
    for table in _CONFIRMED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('confirmed_at', app.models.base.UTCDateTime(timezone=True),
                                          nullable=True))
            batch_op.add_column(sa.Column('confirmed_by_id', sa.Uuid(), nullable=True))
            batch_op.create_foreign_key(batch_op.f(f'fk_{table}_confirmed_by_id_users'), 'users',
                                        ['confirmed_by_id'], ['id'])
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.Enum('skill_level', 'special_operation', name='certificatekind',
                                                      native_enum=False, length=20),
                                      server_default='skill_level', nullable=False))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paper_reference', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('withdrawal_reference', sa.String(length=100), server_default='',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_column('withdrawal_reference')
        batch_op.drop_column('paper_reference')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_column('kind')
    for table in reversed(_CONFIRMED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_confirmed_by_id_users'), type_='foreignkey')
            batch_op.drop_column('confirmed_by_id')
            batch_op.drop_column('confirmed_at')
