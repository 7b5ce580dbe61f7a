"""SQLite only: covering indexes that let the nightly reconciliation walk its joins in key order
(see app/models/reconciliation_indexes.py). PostgreSQL hash-joins and gets none.

Revision ID: c41d7e2a9b10
Revises: 4ab36a62a869
Create Date: 2026-11-23 20:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c41d7e2a9b10'
down_revision = '4ab36a62a869'
branch_labels = None
depends_on = None

_MINUTES = ("CAST(json_extract(payload, '$.context.extensions."
            "\"https://skilltrace.example.org/xapi/profile/attendance/extensions/minutes\"') AS INTEGER)")

_INDEXES = [
    ('ix_presence_intervals_check_in_walk', 'presence_intervals',
     ['check_in_statement_id', 'enrolment_id', 'id']),
    ('ix_presence_intervals_check_out_walk', 'presence_intervals',
     ['check_out_statement_id', 'status', 'enrolment_id', 'id']),
    ('ix_hours_ledger_statement_walk', 'hours_ledger',
     ['statement_id', 'entry_type', 'enrolment_id', 'minutes', 'id']),
    ('ix_face_verifications_statement_walk', 'face_verifications',
     ['statement_id', 'enrolment_id', 'id', 'decision', 'at']),
    ('ix_lrs_statements_id_walk', 'lrs_statements',
     ['id', 'registration', sa.text(_MINUTES), 'verb_iri', 'timestamp']),
    ('ix_presence_intervals_id_walk', 'presence_intervals',
     ['id', 'status', 'session_id', 'opened_at', 'closed_at', 'enrolment_id']),
    ('ix_hours_ledger_interval_walk', 'hours_ledger',
     ['interval_id', 'entry_type', 'minutes', 'enrolment_id', 'id']),
    ('ix_presence_intervals_check_out_verification_walk', 'presence_intervals',
     ['check_out_verification_id', 'status', 'closed_at', 'enrolment_id', 'id']),
    ('ix_face_verifications_id_walk', 'face_verifications', ['id', 'at']),
    ('ix_audit_entries_object_hex', 'audit_entries', [sa.text("replace(object_id, '-', '')")]),
]


def upgrade():
    if op.get_bind().dialect.name != 'sqlite':
        return
    for name, table, columns in _INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade():
    if op.get_bind().dialect.name != 'sqlite':
        return
    for name, table, _columns in reversed(_INDEXES):
        op.drop_index(name, table_name=table)
