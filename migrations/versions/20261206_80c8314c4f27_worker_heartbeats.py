"""worker heartbeats: when each worker last finished a pass of each lane (tts/ops/heartbeats.py)

Revision ID: 80c8314c4f27
Revises: 85754591f7b2
Create Date: 2026-12-06 12:52:23.047741

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '80c8314c4f27'
down_revision = '85754591f7b2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('worker_heartbeats',
    sa.Column('lane', sa.String(length=16), nullable=False),
    sa.Column('worker', sa.String(length=100), nullable=False),
    sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('lane', 'worker', name=op.f('pk_worker_heartbeats'))
    )


def downgrade():
    op.drop_table('worker_heartbeats')
