"""Issue 15: face templates record the detector whose landmarks aligned them (``retinaface`` or
``hog``), so that a probe is only compared with templates of its own pipeline.

Existing rows get ``hog``: every release before RetinaFace became the default aligned with dlib's
HOG detector, and no template says otherwise. A template enrolled on a build between the two
(RetinaFace, not yet recorded) is then compared with HOG-aligned probes at HOG's threshold — the
same cross-pipeline mismatch as before this revision, no worse — and it is counted among the
templates to re-enrol on the PIPL page, like every ``hog`` template while RetinaFace is in use.

Revision ID: a23d1e7c4b10
Revises: f19a7b3c5d01
Create Date: 2026-12-07 13:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a23d1e7c4b10'
down_revision = 'f19a7b3c5d01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('face_templates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('detector', sa.String(length=16), nullable=False, server_default='hog'))


def downgrade():
    with op.batch_alter_table('face_templates', schema=None) as batch_op:
        batch_op.drop_column('detector')
