"""audit events sealed after commit by one sealer: writers no longer take the chain's lock

Before, every audited transaction called audit_seal() at its commit, which took the chain's advisory lock:
writers on every server queued on it, and a bulk import held it while it wrote all its events. Now events
are written unsealed in the writer's transaction and the worker's sealer seals them in id order shortly
after (tts/audit/chain.py). This index finds the unsealed ones; audit_seal() is no longer called.

Revision ID: 61656e2b7c0b
Revises: 80c8314c4f27
Create Date: 2026-12-06 12:55:51.628989

"""
import importlib.util
from pathlib import Path

from alembic import op
import sqlalchemy as sa

revision = '61656e2b7c0b'
down_revision = '80c8314c4f27'
branch_labels = None
depends_on = None


def upgrade():
    # Not in batch mode: on SQLite that could copy the table, and the copy would lose its append-only triggers.
    op.create_index('ix_audit_events_unsealed', 'audit_events', ['id'], unique=False,
                    postgresql_where=sa.text('hash IS NULL'), sqlite_where=sa.text('hash IS NULL'))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_seal(json)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        # The function as migration 7c41e9a2d3b8 made it.
        path = Path(__file__).with_name("20261204_7c41e9a2d3b8_audit_events_sealed_by_one_database_call.py")
        spec = importlib.util.spec_from_file_location("audit_seal_migration", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        op.execute(module.AUDIT_SEAL)
    op.drop_index('ix_audit_events_unsealed', table_name='audit_events')
