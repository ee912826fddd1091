"""call queue: work items, call attempts, escalations; staff phone and languages

Revision ID: b99ab7a9e00d
Revises: a1d1e0c5f002
Create Date: 2026-11-22 11:20:35.470610

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b99ab7a9e00d'
down_revision = 'a1d1e0c5f002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('work_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('band', sa.Integer(), nullable=False),
    sa.Column('is_household_raised', sa.Boolean(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('assigned_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_by_id', sa.Integer(), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claim_token', sa.String(length=32), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=40), nullable=True),
    sa.Column('origin_item_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('(case_id IS NULL) <> (contact_id IS NULL)', name=op.f('ck_work_items_one_subject')),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_work_items_assignee_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_work_items_case_id_cases')),
    sa.ForeignKeyConstraint(['claimed_by_id'], ['users.id'], name=op.f('fk_work_items_claimed_by_id_users')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_work_items_contact_id_contacts')),
    sa.ForeignKeyConstraint(['origin_item_id'], ['work_items.id'], name=op.f('fk_work_items_origin_item_id_work_items')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_work_items_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_items'))
    )
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.create_index('ix_work_items_assignee_open', ['assignee_id', 'band', 'due_at'], unique=False, postgresql_where=sa.text("status IN ('open', 'claimed')"), sqlite_where=sa.text("status IN ('open', 'claimed')"))
        batch_op.create_index(batch_op.f('ix_work_items_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_items_claimed_by_id'), ['claimed_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_items_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_items_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_items_person_id'), ['person_id'], unique=False)
        batch_op.create_index('ix_work_items_queue', ['band', 'due_at', 'id'], unique=False, postgresql_where=sa.text("status IN ('open', 'claimed')"), sqlite_where=sa.text("status IN ('open', 'claimed')"))

    op.create_table('call_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('work_item_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('tracer_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('is_failed', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('callback_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('language', sa.String(length=40), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('twilio_call_sid', sa.String(length=64), nullable=True),
    sa.Column('call_status', sa.String(length=20), nullable=True),
    sa.Column('duration_seconds', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_call_attempts_person_id_people')),
    sa.ForeignKeyConstraint(['tracer_id'], ['users.id'], name=op.f('fk_call_attempts_tracer_id_users')),
    sa.ForeignKeyConstraint(['work_item_id'], ['work_items.id'], name=op.f('fk_call_attempts_work_item_id_work_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_attempts')),
    sa.UniqueConstraint('twilio_call_sid', name=op.f('uq_call_attempts_twilio_call_sid'))
    )
    with op.batch_alter_table('call_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_attempts_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_attempts_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_attempts_tracer_id'), ['tracer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_attempts_work_item_id'), ['work_item_id'], unique=False)

    op.create_table('escalations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('work_item_id', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=30), nullable=False),
    sa.Column('detail', sa.String(length=300), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('visit_outcome', sa.String(length=30), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_escalations_assignee_id_users')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_escalations_household_id_households')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_escalations_person_id_people')),
    sa.ForeignKeyConstraint(['work_item_id'], ['work_items.id'], name=op.f('fk_escalations_work_item_id_work_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalations'))
    )
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalations_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalations_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalations_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalations_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalations_work_item_id'), ['work_item_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('languages', sa.String(length=200), nullable=True))



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('languages')
        batch_op.drop_column('phone')

    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_escalations_work_item_id'))
        batch_op.drop_index(batch_op.f('ix_escalations_status'))
        batch_op.drop_index(batch_op.f('ix_escalations_person_id'))
        batch_op.drop_index(batch_op.f('ix_escalations_household_id'))
        batch_op.drop_index(batch_op.f('ix_escalations_created_at'))

    op.drop_table('escalations')
    with op.batch_alter_table('call_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_attempts_work_item_id'))
        batch_op.drop_index(batch_op.f('ix_call_attempts_tracer_id'))
        batch_op.drop_index(batch_op.f('ix_call_attempts_person_id'))
        batch_op.drop_index(batch_op.f('ix_call_attempts_created_at'))

    op.drop_table('call_attempts')
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.drop_index('ix_work_items_queue', postgresql_where=sa.text("status IN ('open', 'claimed')"), sqlite_where=sa.text("status IN ('open', 'claimed')"))
        batch_op.drop_index(batch_op.f('ix_work_items_person_id'))
        batch_op.drop_index(batch_op.f('ix_work_items_created_at'))
        batch_op.drop_index(batch_op.f('ix_work_items_contact_id'))
        batch_op.drop_index(batch_op.f('ix_work_items_claimed_by_id'))
        batch_op.drop_index(batch_op.f('ix_work_items_case_id'))
        batch_op.drop_index('ix_work_items_assignee_open', postgresql_where=sa.text("status IN ('open', 'claimed')"), sqlite_where=sa.text("status IN ('open', 'claimed')"))

    op.drop_table('work_items')
