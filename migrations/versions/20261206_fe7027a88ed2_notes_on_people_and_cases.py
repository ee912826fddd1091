"""notes on people and cases

Free-text notes by staff on a person or one of their cases. A new table: nothing to backfill.

Revision ID: fe7027a88ed2
Revises: 72099cbecfbb
Create Date: 2026-12-06 05:19:02.946356

"""
from alembic import op
import sqlalchemy as sa

revision = 'fe7027a88ed2'
down_revision = '72099cbecfbb'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_notes_author_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_notes_case_id_cases')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_notes_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notes'))
    )
    with op.batch_alter_table('notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notes_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notes_person_id'), ['person_id'], unique=False)



def downgrade():
    with op.batch_alter_table('notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notes_person_id'))
        batch_op.drop_index(batch_op.f('ix_notes_case_id'))

    op.drop_table('notes')
