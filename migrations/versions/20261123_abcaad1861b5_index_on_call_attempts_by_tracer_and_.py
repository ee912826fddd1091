"""index on call attempts by tracer and time

Revision ID: abcaad1861b5
Revises: 338471eb65aa
Create Date: 2026-11-23 17:09:23.505691

"""
from alembic import op
import sqlalchemy as sa


revision = 'abcaad1861b5'
down_revision = '338471eb65aa'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('call_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_call_attempts_tracer_created', ['tracer_id', 'created_at'], unique=False)



def downgrade():
    with op.batch_alter_table('call_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_call_attempts_tracer_created')

