"""capacity planner: simulation runs

Revision ID: 5dfb578cda1a
Revises: abcaad1861b5
Create Date: 2026-11-23 19:23:19.157131

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5dfb578cda1a'
down_revision = 'abcaad1861b5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('simulation_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('inputs', sa.JSON(), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('results', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_simulation_runs_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_simulation_runs'))
    )
    with op.batch_alter_table('simulation_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_simulation_runs_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_simulation_runs_status'), ['status'], unique=False)



def downgrade():
    with op.batch_alter_table('simulation_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_simulation_runs_status'))
        batch_op.drop_index(batch_op.f('ix_simulation_runs_created_at'))

    op.drop_table('simulation_runs')
