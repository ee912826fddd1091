"""drop two indexes covered by composite ones

contacts.case_id is the first column of uq_contacts_case_person and call_attempts.tracer_id of
ix_call_attempts_tracer_created: each lookup the single-column index served, the composite one serves,
and every contact and call attempt written no longer maintains a third index (docs/benchmarks.md).

Revision ID: b3c9428ef530
Revises: 4beed0a1993a
Create Date: 2026-12-02 10:59:27.304545

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b3c9428ef530'
down_revision = '4beed0a1993a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('call_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_attempts_tracer_id'))

    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contacts_case_id'))



def downgrade():
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contacts_case_id'), ['case_id'], unique=False)

    with op.batch_alter_table('call_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_attempts_tracer_id'), ['tracer_id'], unique=False)

