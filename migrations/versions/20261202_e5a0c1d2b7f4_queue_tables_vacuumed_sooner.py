"""queue tables vacuumed sooner: autovacuum after 1% of work_items and messages change, not 20%

Every claim and outcome rewrites work_items rows (and the outbox's messages rows as texts go out), and
the claim reads the head of the partial queue index, where those dead versions pile up. PostgreSQL's
default waits for 20% of a table to be dead before vacuuming it: 340,000 rows of work_items at national
scale, hours of a busy day's claims, during which each claim steps over more dead entries. At 1% (with a
floor of 1,000 rows) the queue is vacuumed every few thousand claims. No effect was measurable in
30-second load tests (docs/benchmarks.md); the point is a whole day. PostgreSQL only: SQLite has no
autovacuum of this kind.

Revision ID: e5a0c1d2b7f4
Revises: b3c9428ef530
Create Date: 2026-12-02 11:55:00

"""
from alembic import op

revision = "e5a0c1d2b7f4"
down_revision = "b3c9428ef530"
branch_labels = None
depends_on = None

TABLES = ("work_items", "messages")
SETTINGS = {"autovacuum_vacuum_scale_factor": "0.01", "autovacuum_vacuum_threshold": "1000",
            "autovacuum_analyze_scale_factor": "0.02"}


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    values = ", ".join(f"{k} = {v}" for k, v in SETTINGS.items())
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} SET ({values})")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} RESET ({', '.join(SETTINGS)})")
