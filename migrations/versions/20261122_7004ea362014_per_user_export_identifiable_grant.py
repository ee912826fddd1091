"""per-user export_identifiable grant

Revision ID: 7004ea362014
Revises: a0c210182f78
Create Date: 2026-11-22 12:11:43.278519

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7004ea362014'
down_revision = 'a0c210182f78'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('can_export_identifiable', sa.Boolean(), nullable=False, server_default=sa.false()))



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('can_export_identifiable')

