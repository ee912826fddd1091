"""retention: anonymised people keep an age band

Revision ID: 338471eb65aa
Revises: 0afe69f8d4bd
Create Date: 2026-11-23 16:23:13.446538

"""
from alembic import op
import sqlalchemy as sa


revision = '338471eb65aa'
down_revision = '0afe69f8d4bd'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('age_band', sa.String(length=8), nullable=True))



def downgrade():
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_column('age_band')
        batch_op.drop_column('anonymised_at')

