"""partial index on live claims by person

Revision ID: 8504cf959aac
Revises: b99ab7a9e00d
Create Date: 2026-11-22 11:42:18.663502

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8504cf959aac'
down_revision = 'b99ab7a9e00d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.create_index('ix_work_items_claimed_person', ['person_id', 'claimed_until'], unique=False, postgresql_where=sa.text("status = 'claimed'"), sqlite_where=sa.text("status = 'claimed'"))



def downgrade():
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.drop_index('ix_work_items_claimed_person', postgresql_where=sa.text("status = 'claimed'"), sqlite_where=sa.text("status = 'claimed'"))

