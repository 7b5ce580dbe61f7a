"""Issue 14 (tenancy): trainees remember the institution that registered them, which sees them
before their first enrolment.

Revision ID: d14a7c0e5b21
Revises: a17c0e5b3d21
Create Date: 2026-12-07 00:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd14a7c0e5b21'
down_revision = 'a17c0e5b3d21'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('trainees', schema=None) as batch_op:
        batch_op.add_column(sa.Column('registered_by_institution_id', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_trainees_registered_by_institution_id'),
                              ['registered_by_institution_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_trainees_registered_by_institution_id_institutions'),
                                    'institutions', ['registered_by_institution_id'], ['id'])


def downgrade():
    with op.batch_alter_table('trainees', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_trainees_registered_by_institution_id_institutions'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_trainees_registered_by_institution_id'))
        batch_op.drop_column('registered_by_institution_id')
