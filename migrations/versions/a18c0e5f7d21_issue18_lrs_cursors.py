"""Issue 18: lrs_cursors, the stored parameters of long statement queries, so that their
`more` links stay short.

Revision ID: a18c0e5f7d21
Revises: 9e5d3c7a1f42
Create Date: 2026-12-07 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = 'a18c0e5f7d21'
down_revision = '9e5d3c7a1f42'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'lrs_cursors',
        sa.Column('key', sa.String(length=32), nullable=False),
        sa.Column('params', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()),
                                                   'postgresql'), nullable=False),
        sa.Column('created', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_lrs_cursors')),
    )
    op.create_index(op.f('ix_lrs_cursors_created'), 'lrs_cursors', ['created'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_lrs_cursors_created'), table_name='lrs_cursors')
    op.drop_table('lrs_cursors')
