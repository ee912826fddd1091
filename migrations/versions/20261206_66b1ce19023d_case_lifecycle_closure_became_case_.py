"""case lifecycle: closure, became case, exposed by

A case or contact closed by hand keeps why, when and by whom (closure_*); a contact who tested positive
points at the case they became (became_case_id), and that case at the case they caught it from
(exposed_by_case_id). All nullable: existing rows need no value. The statuses themselves were already
columns (open until now).

Revision ID: 66b1ce19023d
Revises: 9e3afd501e3f
Create Date: 2026-12-06 03:41:08.599196
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '66b1ce19023d'
down_revision = '9e3afd501e3f'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('exposed_by_case_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('closure_reason', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('closure_notes', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('closed_by_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_cases_exposed_by_case_id'), ['exposed_by_case_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_cases_closed_by_id_users'), 'users', ['closed_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_cases_exposed_by_case_id_cases'), 'cases', ['exposed_by_case_id'], ['id'])

    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('became_case_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('closure_reason', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('closure_notes', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('closed_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_contacts_closed_by_id_users'), 'users', ['closed_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_contacts_became_case_id_cases'), 'cases', ['became_case_id'], ['id'])



def downgrade():
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_contacts_became_case_id_cases'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_contacts_closed_by_id_users'), type_='foreignkey')
        batch_op.drop_column('closed_by_id')
        batch_op.drop_column('closed_at')
        batch_op.drop_column('closure_notes')
        batch_op.drop_column('closure_reason')
        batch_op.drop_column('became_case_id')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cases_exposed_by_case_id_cases'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_cases_closed_by_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_cases_exposed_by_case_id'))
        batch_op.drop_column('closed_by_id')
        batch_op.drop_column('closed_at')
        batch_op.drop_column('closure_notes')
        batch_op.drop_column('closure_reason')
        batch_op.drop_column('exposed_by_case_id')

