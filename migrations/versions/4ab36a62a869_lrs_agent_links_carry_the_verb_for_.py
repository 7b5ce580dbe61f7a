"""LRS agent links carry the statement's verb, indexed (agent, verb, statement), so that an
agent+verb query reads one index range instead of every statement of the agent. Existing
links are filled in from their statements. The voiding-target index becomes partial (only
voiding statements): over mostly NULLs, SQLite's statistics judged the full one useless.

Revision ID: 4ab36a62a869
Revises: 4d45c46244fb
Create Date: 2026-11-23 17:41:36.170253

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4ab36a62a869'
down_revision = '4d45c46244fb'
branch_labels = None
depends_on = None


_SET = sa.text('voiding_target IS NOT NULL')


def upgrade():
    with op.batch_alter_table('lrs_statements', schema=None) as batch_op:
        batch_op.drop_index('ix_lrs_statements_voiding_target')
        batch_op.create_index('ix_lrs_statements_voiding_target_set', ['voiding_target'],
                              unique=False, postgresql_where=_SET, sqlite_where=_SET)
    with op.batch_alter_table('lrs_statement_agents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verb_iri', sa.Text(), server_default='', nullable=False))
    op.execute("UPDATE lrs_statement_agents SET verb_iri = (SELECT s.verb_iri FROM "
               "lrs_statements s WHERE s.pk = lrs_statement_agents.statement_pk)")
    with op.batch_alter_table('lrs_statement_agents', schema=None) as batch_op:
        batch_op.create_index('ix_lrs_statement_agents_ifi_verb_pk',
                              ['ifi', 'verb_iri', 'statement_pk', 'direct'], unique=False)


def downgrade():
    with op.batch_alter_table('lrs_statement_agents', schema=None) as batch_op:
        batch_op.drop_index('ix_lrs_statement_agents_ifi_verb_pk')
        batch_op.drop_column('verb_iri')
    with op.batch_alter_table('lrs_statements', schema=None) as batch_op:
        batch_op.drop_index('ix_lrs_statements_voiding_target_set', postgresql_where=_SET,
                            sqlite_where=_SET)
        batch_op.create_index('ix_lrs_statements_voiding_target', ['voiding_target'],
                              unique=False)
