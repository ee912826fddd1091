"""telephony: messages outbox, templates, phone calls, webhook events

Revision ID: 438887491a72
Revises: 8504cf959aac
Create Date: 2026-11-22 11:50:37.759208

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '438887491a72'
down_revision = '8504cf959aac'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('webhook_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_events')),
    sa.UniqueConstraint('key', name='uq_webhook_events_key')
    )
    op.create_table('message_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trigger', sa.String(length=30), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('is_enabled', sa.Boolean(), nullable=False),
    sa.Column('welfare_day', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_message_templates_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_templates')),
    sa.UniqueConstraint('trigger', name=op.f('uq_message_templates_trigger'))
    )
    op.create_table('messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('trigger', sa.String(length=30), nullable=True),
    sa.Column('to_number', sa.String(length=20), nullable=True),
    sa.Column('from_number', sa.String(length=20), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('twilio_sid', sa.String(length=64), nullable=True),
    sa.Column('error_code', sa.Integer(), nullable=True),
    sa.Column('error_message', sa.String(length=300), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('needs_lookup', sa.Boolean(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sending_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status_updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('work_item_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_messages_person_id_people')),
    sa.ForeignKeyConstraint(['work_item_id'], ['work_items.id'], name=op.f('fk_messages_work_item_id_work_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages')),
    sa.UniqueConstraint('twilio_sid', name=op.f('uq_messages_twilio_sid'))
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_messages_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_messages_due', ['next_attempt_at', 'id'], unique=False, postgresql_where=sa.text("status = 'queued'"), sqlite_where=sa.text("status = 'queued'"))
        batch_op.create_index(batch_op.f('ix_messages_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_status'), ['status'], unique=False)

    op.create_table('phone_calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('work_item_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('tracer_id', sa.Integer(), nullable=False),
    sa.Column('twilio_sid', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('last_sequence', sa.Integer(), nullable=False),
    sa.Column('duration_seconds', sa.Integer(), nullable=True),
    sa.Column('error_message', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_phone_calls_person_id_people')),
    sa.ForeignKeyConstraint(['tracer_id'], ['users.id'], name=op.f('fk_phone_calls_tracer_id_users')),
    sa.ForeignKeyConstraint(['work_item_id'], ['work_items.id'], name=op.f('fk_phone_calls_work_item_id_work_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phone_calls')),
    sa.UniqueConstraint('twilio_sid', name=op.f('uq_phone_calls_twilio_sid'))
    )
    with op.batch_alter_table('phone_calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_phone_calls_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_phone_calls_tracer_id'), ['tracer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_phone_calls_work_item_id'), ['work_item_id'], unique=False)



def downgrade():
    with op.batch_alter_table('phone_calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_phone_calls_work_item_id'))
        batch_op.drop_index(batch_op.f('ix_phone_calls_tracer_id'))
        batch_op.drop_index(batch_op.f('ix_phone_calls_person_id'))

    op.drop_table('phone_calls')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messages_status'))
        batch_op.drop_index(batch_op.f('ix_messages_person_id'))
        batch_op.drop_index('ix_messages_due', postgresql_where=sa.text("status = 'queued'"), sqlite_where=sa.text("status = 'queued'"))
        batch_op.drop_index(batch_op.f('ix_messages_created_at'))

    op.drop_table('messages')
    op.drop_table('message_templates')
    op.drop_table('webhook_events')
