"""Issue 15: kiosks say whether their screen faces the trainee (the screen-colour step), and
accepted checks carry a risk score with its reasons.

Revision ID: c15a8e4f2d61
Revises: b16b5f1a3c77
Create Date: 2026-12-07 03:30:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = 'c15a8e4f2d61'
down_revision = 'b16b5f1a3c77'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('kiosks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('screen_facing', sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table('face_verifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('risk_score', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('risk_reasons', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))


def downgrade():
    with op.batch_alter_table('face_verifications', schema=None) as batch_op:
        batch_op.drop_column('risk_reasons')
        batch_op.drop_column('risk_score')
    with op.batch_alter_table('kiosks', schema=None) as batch_op:
        batch_op.drop_column('screen_facing')
