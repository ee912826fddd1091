"""indexes for finding cases

The Cases list (tts/cases/finding.py) finds a case by part of a surname and a first name (ILIKE '%smi%':
on PostgreSQL a GIN index of trigrams, the pg_trgm extension, shipped with PostgreSQL and trusted since
version 13, so the database's owner may create it; elsewhere a plain index), by postcode district (a
prefix: the pattern operators on PostgreSQL), sorted by surname, filtered by status or by the tracer a
case was assigned to; and reads the people on a tracer's work from indexes alone (call attempts carry the
person in their tracer index; assigned queue items have a partial index of their own). Building them on
a large database takes minutes (about 7 s for 1.7 million people); nothing else changes.

Revision ID: 72099cbecfbb
Revises: 8987dc1fbfa9
Create Date: 2026-12-06 05:13:37.906763

"""
from alembic import op
import sqlalchemy as sa


revision = '72099cbecfbb'
down_revision = '8987dc1fbfa9'
branch_labels = None
depends_on = None

ASSIGNED = sa.text("assignee_id IS NOT NULL")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.batch_alter_table('people', schema=None) as batch_op:
        for column in ("last_name", "first_name"):
            batch_op.create_index(f'ix_people_{column}_trgm', [column], unique=False, postgresql_using='gin',
                                  postgresql_ops={column: 'gin_trgm_ops'})
        batch_op.create_index('ix_people_name', ['last_name', 'first_name', 'id'], unique=False)
        batch_op.create_index('ix_people_postcode_prefix', ['postcode'], unique=False,
                              postgresql_ops={'postcode': 'text_pattern_ops'})
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_assigned_to_id'), ['assigned_to_id'], unique=False)
        batch_op.create_index('ix_cases_status_created', ['status', 'created_at'], unique=False)
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.create_index('ix_work_items_assignee_person', ['assignee_id', 'person_id'], unique=False,
                              postgresql_where=ASSIGNED, sqlite_where=ASSIGNED)
    with op.batch_alter_table('call_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_call_attempts_tracer_created')
        batch_op.create_index('ix_call_attempts_tracer_created', ['tracer_id', 'created_at'], unique=False,
                              postgresql_include=['person_id'])


def downgrade():
    with op.batch_alter_table('call_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_call_attempts_tracer_created')
        batch_op.create_index('ix_call_attempts_tracer_created', ['tracer_id', 'created_at'], unique=False)
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.drop_index('ix_work_items_assignee_person')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_status_created')
        batch_op.drop_index(batch_op.f('ix_cases_assigned_to_id'))
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_index('ix_people_postcode_prefix')
        batch_op.drop_index('ix_people_name')
        for column in ("first_name", "last_name"):
            batch_op.drop_index(f'ix_people_{column}_trgm')
    # The extension stays: other objects (or the operator's own) may use it.
