"""The audit payload cross-check walks indexes instead of reading the audit log: per kind of
entry (ledger minutes, interval closings, verification decisions) a partial index in object-id
order holding the entry's action and the minutes its payload recorded, so that the check reads
no audit row and parses no JSON (see app/models/reconciliation_indexes.py).

``audit_entries.payload_minutes`` is generated from the stored payload (virtual on SQLite,
stored on PostgreSQL, whose index INCLUDEs it: an index-only scan returns no expression); SQLite's
indexes hold the minutes as an expression. The ledger gets an id walk with its minutes, and the
verifications' id walk now holds the decision and the enrolment.

Revision ID: b23e2f8d5c21
Revises: a23d1e7c4b10
Create Date: 2026-12-07 13:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b23e2f8d5c21'
down_revision = 'a23d1e7c4b10'
branch_labels = None
depends_on = None

_LEDGER = "('hours.credited', 'hours.reversed')"
_CLOSING = "('presence.closed', 'presence.closed_by_scheduler', 'study.closed_idle', 'study.closed_day_end')"
_DECISIONS = "('attendance.verified', 'attendance.refused')"
_MINUTES_ACTIONS = ("('hours.credited', 'hours.reversed', 'presence.closed', 'presence.closed_by_scheduler', "
                    "'study.closed_idle', 'study.closed_day_end')")
_GENERATED = {
    'sqlite': f"CASE WHEN action IN {_MINUTES_ACTIONS} THEN json_extract(payload, '$.minutes') END",
    'postgresql': f"CASE WHEN action IN {_MINUTES_ACTIONS} THEN payload ->> 'minutes' END",
}
_AUDITED = "'hours_ledger', 'presence_intervals', 'face_verifications'"
_OBJECT = {
    'sqlite': "replace(object_id, '-', '')",
    'postgresql': f"(CASE WHEN object_type IN ({_AUDITED}) THEN CAST(object_id AS UUID) END)",
}
_RECORDED = "CAST(json_extract(payload, '$.minutes') AS INTEGER)"
_WALKS = (('ledger_minutes', _LEDGER, True), ('closing_minutes', _CLOSING, True), ('decisions', _DECISIONS, False))


def _audit_walks(dialect):
    """(name, columns, options) of the audit log's payload walks on ``dialect``."""
    for kind, actions, minutes in _WALKS:
        where = sa.text(f"action IN {actions}")
        if dialect == 'sqlite':
            columns = [sa.text(_OBJECT['sqlite']), 'object_type', 'action'] + ([sa.text(_RECORDED)] if minutes else [])
            yield f'ix_audit_entries_{kind}_hex', columns, {'sqlite_where': where}
        else:
            included = ['object_type', 'object_id', 'seq', 'action'] + (['payload_minutes'] if minutes else [])
            yield (f'ix_audit_entries_{kind}_uuid', [sa.text(_OBJECT['postgresql'])],
                   {'postgresql_include': included, 'postgresql_where': where})


def upgrade():
    dialect = op.get_bind().dialect.name
    op.add_column('audit_entries', sa.Column('payload_minutes', sa.Text(), sa.Computed(
        sa.text(_GENERATED[dialect]), persisted=True if dialect == 'postgresql' else None), nullable=True))
    op.drop_index('ix_face_verifications_id_walk', table_name='face_verifications')
    op.create_index('ix_face_verifications_id_walk', 'face_verifications', ['id', 'at', 'decision', 'enrolment_id'])
    op.create_index('ix_hours_ledger_id_walk', 'hours_ledger', ['id', 'minutes', 'enrolment_id'])
    for name, columns, options in _audit_walks(dialect):
        op.create_index(name, 'audit_entries', columns, unique=False, **options)


def downgrade():
    dialect = op.get_bind().dialect.name
    for name, _columns, _options in reversed(list(_audit_walks(dialect))):
        op.drop_index(name, table_name='audit_entries')
    op.drop_index('ix_hours_ledger_id_walk', table_name='hours_ledger')
    op.drop_index('ix_face_verifications_id_walk', table_name='face_verifications')
    op.create_index('ix_face_verifications_id_walk', 'face_verifications', ['id', 'at'])
    op.drop_column('audit_entries', 'payload_minutes')
