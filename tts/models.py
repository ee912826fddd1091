"""Imports every feature's models so SQLAlchemy and Alembic see the whole schema."""
from tts.audit.models import AuditEvent
from tts.auth.models import ApiToken, User
from tts.callqueue.models import CallAttempt, WorkItem
from tts.cases.models import Case, Contact
from tts.escalation.models import Escalation
from tts.people.models import Household, Person
from tts.policies.models import IsolationPolicy

__all__ = ["CallAttempt", "WorkItem", "Escalation", "AuditEvent", "ApiToken", "User", "Case", "Contact", "Household", "Person", "IsolationPolicy"]
