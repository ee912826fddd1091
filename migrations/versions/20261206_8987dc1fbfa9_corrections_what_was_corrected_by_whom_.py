"""corrections: what was corrected, by whom, why

One row per correction of a case, contact or person: the names of the fields changed (never their
values), who, and the reason given; the person's timeline shows them. A new table: nothing to backfill.

Revision ID: 8987dc1fbfa9
Revises: 66b1ce19023d
Create Date: 2026-12-06 04:06:04.676133

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8987dc1fbfa9'
down_revision = '66b1ce19023d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('corrections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_corrections_actor_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_corrections_case_id_cases')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_corrections_contact_id_contacts')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_corrections_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_corrections'))
    )
    with op.batch_alter_table('corrections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_corrections_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_corrections_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_corrections_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_corrections_person_id'), ['person_id'], unique=False)



def downgrade():
    with op.batch_alter_table('corrections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_corrections_person_id'))
        batch_op.drop_index(batch_op.f('ix_corrections_created_at'))
        batch_op.drop_index(batch_op.f('ix_corrections_contact_id'))
        batch_op.drop_index(batch_op.f('ix_corrections_case_id'))

    op.drop_table('corrections')
