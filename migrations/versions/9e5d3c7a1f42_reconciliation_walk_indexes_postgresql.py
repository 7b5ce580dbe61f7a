"""PostgreSQL: the reconciliation's walk indexes, so that it merges index-only scans in join-key
order instead of hashing whole tables (see app/models/reconciliation_indexes.py). SQLite has had
the plain ones since c41d7e2a9b10. The statements' unique id index now INCLUDEs the registration,
timestamp and verb (the reconciliation walks it); the audit log gets an index of its object ids
as UUIDs.

Revision ID: 9e5d3c7a1f42
Revises: c41d7e2a9b10
Create Date: 2026-11-23 23:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9e5d3c7a1f42'
down_revision = 'c41d7e2a9b10'
branch_labels = None
depends_on = None

_AUDITED = "'hours_ledger', 'presence_intervals', 'face_verifications'"

_INDEXES = [
    ('ix_presence_intervals_check_in_walk', 'presence_intervals',
     ['check_in_statement_id', 'enrolment_id', 'id'], {}),
    ('ix_presence_intervals_check_out_walk', 'presence_intervals',
     ['check_out_statement_id', 'status', 'enrolment_id', 'id'], {}),
    ('ix_hours_ledger_statement_walk', 'hours_ledger',
     ['statement_id', 'entry_type', 'enrolment_id', 'minutes', 'id'], {}),
    ('ix_face_verifications_statement_walk', 'face_verifications',
     ['statement_id', 'enrolment_id', 'id', 'decision', 'at'], {}),
    ('ix_presence_intervals_id_walk', 'presence_intervals',
     ['id', 'status', 'session_id', 'opened_at', 'closed_at', 'enrolment_id'], {}),
    ('ix_hours_ledger_interval_walk', 'hours_ledger',
     ['interval_id', 'entry_type', 'minutes', 'enrolment_id', 'id'], {}),
    ('ix_presence_intervals_check_out_verification_walk', 'presence_intervals',
     ['check_out_verification_id', 'status', 'closed_at', 'enrolment_id', 'id'], {}),
    ('ix_face_verifications_id_walk', 'face_verifications', ['id', 'at'], {}),
    ('ix_audit_entries_object_uuid', 'audit_entries', [sa.text(
        f"(CASE WHEN object_type IN ({_AUDITED}) THEN CAST(object_id AS UUID) END)")],
     {'postgresql_include': ['object_type', 'object_id'], 'postgresql_where': sa.text(f"object_type IN ({_AUDITED})")}),
]


def _statement_ids(include=''):
    op.drop_constraint('uq_lrs_statements_id', 'lrs_statements', type_='unique')
    op.execute(f'ALTER TABLE lrs_statements ADD CONSTRAINT uq_lrs_statements_id UNIQUE (id){include}')


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    _statement_ids(' INCLUDE (registration, timestamp, verb_iri)')
    for name, table, columns, options in _INDEXES:
        op.create_index(name, table, columns, unique=False, **options)


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for name, table, _columns, _options in reversed(_INDEXES):
        op.drop_index(name, table_name=table)
    _statement_ids()
