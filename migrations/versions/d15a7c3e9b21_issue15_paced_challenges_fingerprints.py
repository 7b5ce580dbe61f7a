"""Issue 15: server-paced check-in challenges (state, face seen, sealed probe) and the replay
memory of face fingerprints.

Revision ID: d15a7c3e9b21
Revises: b16a4e2c7d90
Create Date: 2026-12-07 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import app.models.base


# revision identifiers, used by Alembic.
revision = 'd15a7c3e9b21'
down_revision = 'b16a4e2c7d90'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('check_in_challenges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paced', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('state', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))
        batch_op.add_column(sa.Column('face_seen', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('probe', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('kept_frames', sa.LargeBinary(), nullable=True))
    op.create_table('face_fingerprints',
    sa.Column('trainee_id', sa.Uuid(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('sealed', sa.LargeBinary(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['trainee_id'], ['trainees.id'], name=op.f('fk_face_fingerprints_trainee_id_trainees')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_face_fingerprints'))
    )
    with op.batch_alter_table('face_fingerprints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_face_fingerprints_trainee_id'), ['trainee_id'], unique=False)


def downgrade():
    with op.batch_alter_table('face_fingerprints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_face_fingerprints_trainee_id'))
    op.drop_table('face_fingerprints')
    with op.batch_alter_table('check_in_challenges', schema=None) as batch_op:
        batch_op.drop_column('kept_frames')
        batch_op.drop_column('probe')
        batch_op.drop_column('face_seen')
        batch_op.drop_column('state')
        batch_op.drop_column('paced')
