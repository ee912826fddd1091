"""people: merged into another, and pairs that are not duplicates

A supervisor merges two records of one person (people.merged_into_id, merged_at: null for everyone
until then), or says two possible duplicates are different people (not_duplicates, a new table).

Revision ID: f713b7948ee1
Revises: fe7027a88ed2
Create Date: 2026-12-06 05:20:54.146490

"""
from alembic import op
import sqlalchemy as sa

revision = 'f713b7948ee1'
down_revision = 'fe7027a88ed2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('not_duplicates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('other_id', sa.Integer(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_not_duplicates_decided_by_id_users')),
    sa.ForeignKeyConstraint(['other_id'], ['people.id'], name=op.f('fk_not_duplicates_other_id_people')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_not_duplicates_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_not_duplicates')),
    sa.UniqueConstraint('person_id', 'other_id', name='uq_not_duplicates_pair')
    )
    with op.batch_alter_table('not_duplicates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_not_duplicates_other_id'), ['other_id'], unique=False)

    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('merged_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_people_merged_into_id_people'), 'people', ['merged_into_id'], ['id'])



def downgrade():
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_people_merged_into_id_people'), type_='foreignkey')
        batch_op.drop_column('merged_at')
        batch_op.drop_column('merged_into_id')

    with op.batch_alter_table('not_duplicates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_not_duplicates_other_id'))

    op.drop_table('not_duplicates')
