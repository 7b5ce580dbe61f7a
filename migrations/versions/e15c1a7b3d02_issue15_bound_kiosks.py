"""Issue 15: bound kiosks (one-time enrolment code, device public key, allowed address ranges;
the key-and-secret credential is gone: existing kiosks are re-provisioned), kiosk-scoped
check-in locks, the candidate a refused kiosk identification named, and duplicate-face flags
that list the nearest templates (refused, or kept and listed for review).

Revision ID: e15c1a7b3d02
Revises: c15a8e4f2d61
Create Date: 2026-12-07 03:30:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import app.models.base


# revision identifiers, used by Alembic.
revision = 'e15c1a7b3d02'
down_revision = 'c15a8e4f2d61'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('kiosks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('allowed_ranges', sa.String(length=500), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('code_digest', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('code_expires_at', app.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('public_key', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('bound_at', app.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_kiosks_code_digest'), ['code_digest'])
        batch_op.drop_column('secret_hash')
    with op.batch_alter_table('check_in_locks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope', sa.String(length=20), nullable=False, server_default='personal'))
    with op.batch_alter_table('face_verifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('candidate_id', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_face_verifications_candidate_id'), ['candidate_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_face_verifications_candidate_id_trainees'), 'trainees',
                                    ['candidate_id'], ['id'])
    with op.batch_alter_table('duplicate_face_flags', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refused', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('candidates', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))


def downgrade():
    with op.batch_alter_table('duplicate_face_flags', schema=None) as batch_op:
        batch_op.drop_column('candidates')
        batch_op.drop_column('refused')
    with op.batch_alter_table('face_verifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_face_verifications_candidate_id_trainees'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_face_verifications_candidate_id'))
        batch_op.drop_column('candidate_id')
    with op.batch_alter_table('check_in_locks', schema=None) as batch_op:
        batch_op.drop_column('scope')
    with op.batch_alter_table('kiosks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secret_hash', sa.String(length=255), nullable=False, server_default='!'))
        batch_op.drop_constraint(batch_op.f('uq_kiosks_code_digest'), type_='unique')
        batch_op.drop_column('bound_at')
        batch_op.drop_column('public_key')
        batch_op.drop_column('code_expires_at')
        batch_op.drop_column('code_digest')
        batch_op.drop_column('allowed_ranges')
