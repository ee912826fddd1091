"""index for the longest-waiting item

The supervisor's dashboard shows the item waiting longest, whatever its band. The queue's other
indexes lead with the band or the assignee, so PostgreSQL sorted every waiting item for it (26 ms, with
parallel workers on both cores, at national peak) on every refresh; with this partial index it reads one
entry (0.04 ms). It holds only open and claimed items, as the queue's own index does
(docs/benchmarks.md). Built in about a second at national peak.

Revision ID: 48c358be0f7d
Revises: 7c41e9a2d3b8
Create Date: 2026-12-05 05:42:27.434027

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '48c358be0f7d'
down_revision = '7c41e9a2d3b8'
branch_labels = None
depends_on = None

WAITING = sa.text("status IN ('open', 'claimed')")


def upgrade():
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.create_index('ix_work_items_waiting_due', ['due_at', 'id'], unique=False,
                              postgresql_where=WAITING, sqlite_where=WAITING)


def downgrade():
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.drop_index('ix_work_items_waiting_due')
