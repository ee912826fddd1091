"""two-factor sign-in, server-side sessions, audit hash chain

Audit events stay append-only; the triggers now allow one update only: sealing an unsealed event
(setting chain_seq, prev_hash and hash once, every other column unchanged).

Revision ID: 0afe69f8d4bd
Revises: 70d022696062
Create Date: 2026-11-23 16:12:03.169820

"""
from alembic import op
import sqlalchemy as sa


revision = '0afe69f8d4bd'
down_revision = '70d022696062'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('recovery_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_recovery_codes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes'))
    )
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_codes_user_id'), ['user_id'], unique=False)

    op.create_table('user_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_reason', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_user_sessions_token_hash'))
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)

    # Plain ADD COLUMN, not a batch copy: SQLite would drop the table's append-only triggers with the copy.
    op.add_column('audit_events', sa.Column('chain_seq', sa.Integer(), nullable=True))
    op.add_column('audit_events', sa.Column('prev_hash', sa.String(length=64), nullable=True))
    op.add_column('audit_events', sa.Column('hash', sa.String(length=64), nullable=True))
    op.create_index(op.f('ix_audit_events_chain_seq'), 'audit_events', ['chain_seq'], unique=True)
    _sealing_triggers()

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_enrolled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=True))



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('password_changed_at')
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_enrolled_at')
        batch_op.drop_column('totp_secret')

    _strict_triggers()
    op.drop_index(op.f('ix_audit_events_chain_seq'), table_name='audit_events')
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops a column by copying the table, which loses its triggers: put them back after.
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute("DROP TRIGGER audit_events_no_delete")
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('chain_seq')
    if op.get_bind().dialect.name == "sqlite":
        _strict_triggers(create_only=True)

    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_user_id'))

    op.drop_table('user_sessions')
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_codes_user_id'))

    op.drop_table('recovery_codes')


_UNCHANGED = ("id", "at", "actor_id", "action", "record_type", "record_id", "via", "ip", "details")


def _sealing_triggers():
    if op.get_bind().dialect.name == "postgresql":
        same = " AND ".join(f"NEW.{c}::text IS NOT DISTINCT FROM OLD.{c}::text" for c in _UNCHANGED)
        op.execute(f"""
            CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND OLD.hash IS NULL AND NEW.hash IS NOT NULL AND {same} THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION 'audit_events is append-only';
            END;
            $$ LANGUAGE plpgsql
        """)
    else:
        same = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _UNCHANGED)
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute(f"""
            CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
            WHEN NOT (OLD.hash IS NULL AND NEW.hash IS NOT NULL AND {same})
            BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END
        """)


def _strict_triggers(create_only: bool = False):
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit_events is append-only';
            END;
            $$ LANGUAGE plpgsql
        """)
        return
    if not create_only:
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(f"""
            CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events
            BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END
        """)
