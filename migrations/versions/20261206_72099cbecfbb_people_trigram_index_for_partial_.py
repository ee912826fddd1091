"""people: trigram index for partial surname search

The Cases list finds a case by part of a surname (ILIKE '%smi%'). On PostgreSQL a GIN index of trigrams
(the pg_trgm extension, shipped with PostgreSQL and trusted since version 13, so the database's owner may
create it) serves that; on SQLite the index is a plain one.

Revision ID: 72099cbecfbb
Revises: 8987dc1fbfa9
Create Date: 2026-12-06 05:13:37.906763

"""
from alembic import op


revision = '72099cbecfbb'
down_revision = '8987dc1fbfa9'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.create_index('ix_people_last_name_trgm', ['last_name'], unique=False, postgresql_using='gin',
                              postgresql_ops={'last_name': 'gin_trgm_ops'})


def downgrade():
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_index('ix_people_last_name_trgm', postgresql_using='gin',
                            postgresql_ops={'last_name': 'gin_trgm_ops'})
    # The extension stays: other databases' objects (or the operator's own) may use it.
