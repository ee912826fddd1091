"""supervision: shifts, field officers, work notices, doorstep visits, support needs

Revision ID: a0c210182f78
Revises: c3a7e1d2f004
Create Date: 2026-11-22 11:59:00.824328

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a0c210182f78'
down_revision = 'c3a7e1d2f004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('support_needs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('urgency', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('referred_to', sa.String(length=100), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_support_needs_created_by_id_users')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_support_needs_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_needs'))
    )
    with op.batch_alter_table('support_needs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_needs_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_needs_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_needs_status'), ['status'], unique=False)

    op.create_table('work_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('work_item_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_work_notices_actor_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_work_notices_user_id_users')),
    sa.ForeignKeyConstraint(['work_item_id'], ['work_items.id'], name=op.f('fk_work_notices_work_item_id_work_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_notices'))
    )
    with op.batch_alter_table('work_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_notices_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_notices_user_id'), ['user_id'], unique=False)

    op.create_table('visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('escalation_id', sa.Integer(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['escalation_id'], ['escalations.id'], name=op.f('fk_visits_escalation_id_escalations')),
    sa.ForeignKeyConstraint(['officer_id'], ['users.id'], name=op.f('fk_visits_officer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits'))
    )
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visits_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_escalation_id'), ['escalation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_officer_id'), ['officer_id'], unique=False)

    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolution', sa.String(length=300), nullable=True))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_field_officer', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('is_on_shift', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('shift_changed_at', sa.DateTime(timezone=True), nullable=True))



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('shift_changed_at')
        batch_op.drop_column('is_on_shift')
        batch_op.drop_column('is_field_officer')

    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.drop_column('resolution')

    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visits_officer_id'))
        batch_op.drop_index(batch_op.f('ix_visits_escalation_id'))
        batch_op.drop_index(batch_op.f('ix_visits_created_at'))

    op.drop_table('visits')
    with op.batch_alter_table('work_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_notices_user_id'))
        batch_op.drop_index(batch_op.f('ix_work_notices_created_at'))

    op.drop_table('work_notices')
    with op.batch_alter_table('support_needs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_needs_status'))
        batch_op.drop_index(batch_op.f('ix_support_needs_person_id'))
        batch_op.drop_index(batch_op.f('ix_support_needs_created_at'))

    op.drop_table('support_needs')
