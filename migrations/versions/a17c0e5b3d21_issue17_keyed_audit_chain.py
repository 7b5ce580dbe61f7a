"""Issue 17: the audit chain is keyed: each entry records the id of the chain key (kept outside
the database) its hash is an HMAC under; entries written before have none and keep their plain
SHA-256 hashes. The reconciliation walks interval openings against their check-in
verifications (a new index, both databases).

Revision ID: a17c0e5b3d21
Revises: a18c0e5f7d21
Create Date: 2026-12-07 00:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a17c0e5b3d21'
down_revision = 'a18c0e5f7d21'
branch_labels = None
depends_on = None


# plain ADD/DROP COLUMN (SQLite has both): a batch rebuild would lose the expression indexes
def upgrade():
    op.add_column('audit_entries', sa.Column('key_id', sa.String(length=32), nullable=True))
    op.create_index('ix_presence_intervals_check_in_verification_walk', 'presence_intervals',
                    ['check_in_verification_id', 'opened_at', 'enrolment_id', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_presence_intervals_check_in_verification_walk', table_name='presence_intervals')
    op.drop_column('audit_entries', 'key_id')
