"""Imports every feature's models so SQLAlchemy and Alembic see the whole schema."""
from tts.api.models import IdempotentRequest
from tts.audit.models import AuditEvent
from tts.auth.models import ApiToken, User
from tts.callqueue.models import CallAttempt, WorkItem
from tts.cases.models import Case, Contact
from tts.escalation.models import Escalation, Visit
from tts.imports.models import ImportBatch
from tts.letters.models import Letter, LetterTemplate
from tts.ops.heartbeats import WorkerHeartbeat
from tts.outbreaks.models import Outbreak, OutbreakAction, OutbreakCase, Setting, SettingLink, SettingMention
from tts.supervision.models import WorkNotice
from tts.support.models import SupportNeed
from tts.people.models import Household, Person
from tts.policies.models import IsolationPolicy
from tts.reports.models import ExportFileChunk, ExportJob, ReportSnapshot
from tts.selfservice.models import CheckIn, SelfServiceLink, TeamAlert
from tts.simulation.models import SimulationRun
from tts.telephony.models import Message, MessageTemplate, PhoneCall, WebhookEvent

__all__ = ["Letter", "LetterTemplate", "Outbreak", "OutbreakAction", "OutbreakCase", "Setting", "SettingLink", "SettingMention", "WorkerHeartbeat", "CheckIn", "SelfServiceLink", "TeamAlert", "IdempotentRequest", "ExportFileChunk", "ExportJob", "ReportSnapshot", "SimulationRun", "ImportBatch", "Visit", "WorkNotice", "SupportNeed", "Message", "MessageTemplate", "PhoneCall", "WebhookEvent", "CallAttempt", "WorkItem", "Escalation", "AuditEvent", "ApiToken", "User", "Case", "Contact", "Household", "Person", "IsolationPolicy"]
