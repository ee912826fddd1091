"""report snapshots: KPI figures shared by every web and worker process

Revision ID: db45465c91a6
Revises: 5dfb578cda1a
Create Date: 2026-11-23 21:46:33.742306

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'db45465c91a6'
down_revision = '5dfb578cda1a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_snapshots',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seconds', sa.Double(), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_report_snapshots'))
    )


def downgrade():
    op.drop_table('report_snapshots')
