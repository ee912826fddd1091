"""sign-in failures shared by every process

Sign-in throttling counted failures in each web process's memory, so with gunicorn's several processes an
account took 5 wrong passwords per process before it locked. The failures now live here (the account or
address hashed), read and written by every process and server.

Revision ID: b6664e5dd6fd
Revises: 48c358be0f7d
Create Date: 2026-12-06 00:01:54.853260

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b6664e5dd6fd'
down_revision = '48c358be0f7d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('signin_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signin_failures'))
    )
    with op.batch_alter_table('signin_failures', schema=None) as batch_op:
        batch_op.create_index('ix_signin_failures_scope_key_at', ['scope', 'key_hash', 'failed_at'], unique=False)



def downgrade():
    with op.batch_alter_table('signin_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_signin_failures_scope_key_at')

    op.drop_table('signin_failures')
