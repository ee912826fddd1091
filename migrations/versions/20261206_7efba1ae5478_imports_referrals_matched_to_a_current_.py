"""imports: referrals matched to a current case

A case row for someone who already has a current case is reported on the batch (import_batches.matched,
null for earlier batches) instead of being logged a second time.

Revision ID: 7efba1ae5478
Revises: f713b7948ee1
Create Date: 2026-12-06 05:27:03.132986

"""
from alembic import op
import sqlalchemy as sa

revision = '7efba1ae5478'
down_revision = 'f713b7948ee1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('matched', sa.JSON(), nullable=True))



def downgrade():
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.drop_column('matched')

