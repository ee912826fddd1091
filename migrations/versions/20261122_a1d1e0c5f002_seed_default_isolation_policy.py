"""seed the default isolation policy (10 days cases, 14 days contacts, infectious 2 days before onset)

Revision ID: a1d1e0c5f002
Revises: a1d1e0c5f001
Create Date: 2026-11-22 11:21:00

"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "a1d1e0c5f002"
down_revision = "a1d1e0c5f001"
branch_labels = None
depends_on = None

policies = sa.table(
    "isolation_policies",
    sa.column("id", sa.Integer),
    sa.column("effective_from", sa.DateTime(timezone=True)),
    sa.column("case_isolation_days", sa.Integer),
    sa.column("contact_quarantine_days", sa.Integer),
    sa.column("infectious_days_before_onset", sa.Integer),
    sa.column("note", sa.String),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def upgrade():
    stamp = EPOCH.replace(tzinfo=None) if op.get_bind().dialect.name == "sqlite" else EPOCH
    op.bulk_insert(policies, [{
        "effective_from": stamp, "case_isolation_days": 10, "contact_quarantine_days": 14,
        "infectious_days_before_onset": 2, "note": "Default policy", "created_at": stamp,
    }])


def downgrade():
    op.execute(policies.delete().where(policies.c.note == "Default policy"))
