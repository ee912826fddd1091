"""seed the default SMS templates (introduction, missed call, isolation advice, welfare check, support arranged)

Revision ID: c3a7e1d2f004
Revises: 438887491a72
Create Date: 2026-11-22 12:10:00

"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "c3a7e1d2f004"
down_revision = "438887491a72"
branch_labels = None
depends_on = None

templates = sa.table(
    "message_templates",
    sa.column("trigger", sa.String),
    sa.column("name", sa.String),
    sa.column("body", sa.Text),
    sa.column("is_enabled", sa.Boolean),
    sa.column("welfare_day", sa.Integer),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)

# Copied here (not imported) so this migration never changes when the app's defaults do.
DEFAULTS = [
    ("introduction", "Introduction before the first call",
     "Hello {first_name}, this is the council's test and trace team. We will call you soon from {team_phone}. "
     "Please answer: we can help. Reply STOP to opt out.", None),
    ("missed_call", "We tried to call you",
     "Hello {first_name}, we tried to call you from the council's test and trace team. We will try again, "
     "or call us on {team_phone}.", None),
    ("isolation_advice", "Isolation advice once reached",
     "Thank you for speaking to us, {first_name}. Please stay at home until the end of {end_date}. "
     "If you need help with food, medicine or money, call {team_phone}.", None),
    ("welfare_check", "Welfare check during isolation",
     "Hello {first_name}, how are you getting on? If you need any help while you stay at home, call the "
     "council's test and trace team on {team_phone}.", 5),
    ("support_arranged", "Support arranged",
     "Hello {first_name}, the support we talked about has been arranged. Questions? Call {team_phone}.", None),
]


def upgrade():
    now = datetime.now(UTC)
    stamp = now.replace(tzinfo=None) if op.get_bind().dialect.name == "sqlite" else now
    op.bulk_insert(templates, [{"trigger": t, "name": n, "body": b, "is_enabled": True, "welfare_day": d,
                                "updated_at": stamp} for t, n, b, d in DEFAULTS])


def downgrade():
    op.execute(templates.delete().where(templates.c.trigger.in_([d[0] for d in DEFAULTS])))
