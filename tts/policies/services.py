"""Finding the policy in force and adding new versions."""
from datetime import date, datetime

from sqlalchemy import select

from tts.audit.services import record_event
from tts.cache import for_transaction, forget_for_transaction
from tts.clock import london_midnight, today, utcnow
from tts.errors import ErrorCollector
from tts.extensions import db
from tts.policies.models import IsolationPolicy

DEFAULTS = {"case_isolation_days": 10, "contact_quarantine_days": 14, "infectious_days_before_onset": 2}


def policy_in_force(at: datetime | None = None) -> IsolationPolicy:
    """The latest version whose effective time has passed at `at` (default now)."""
    if at is None:  # "now": the same for the whole of one transaction (a request, a worker step)
        return for_transaction("policy_in_force", lambda: policy_in_force(utcnow()))
    policy = db.session.scalar(
        select(IsolationPolicy)
        .where(IsolationPolicy.effective_from <= at)
        .order_by(IsolationPolicy.effective_from.desc(), IsolationPolicy.id.desc())
        .limit(1)
    )
    if policy is None:
        # The first migration seeds a version; this only guards a database emptied by hand.
        policy = IsolationPolicy(effective_from=datetime(2020, 1, 1, tzinfo=utcnow().tzinfo), **DEFAULTS,
                                 note="Built-in default")
        db.session.add(policy)
        db.session.flush()
    return policy


def list_policies() -> list[IsolationPolicy]:
    return list(db.session.scalars(select(IsolationPolicy).order_by(IsolationPolicy.effective_from.desc(),
                                                                     IsolationPolicy.id.desc())))


def create_policy_version(actor, *, effective_date: date | None, case_isolation_days: int | None,
                          contact_quarantine_days: int | None, infectious_days_before_onset: int | None,
                          note: str | None = None) -> IsolationPolicy:
    """A new version from `effective_date` (today = from now). Records created earlier keep their dates."""
    errors = ErrorCollector()
    if effective_date is None:
        errors.add("effective_date", "Enter the date the policy takes effect")
    elif effective_date < today():
        errors.add("effective_date", "The effective date must be today or later: past records keep the policy they were created under")
    for name, value, low, high in (("case_isolation_days", case_isolation_days, 1, 60),
                                   ("contact_quarantine_days", contact_quarantine_days, 0, 60),
                                   ("infectious_days_before_onset", infectious_days_before_onset, 0, 14)):
        if value is None:
            errors.add(name, "Enter a number of days")
        elif not low <= value <= high:
            errors.add(name, f"Enter a number of days between {low} and {high}")
    errors.raise_if_any()
    assert effective_date is not None
    effective_from = max(utcnow(), london_midnight(effective_date))
    policy = IsolationPolicy(effective_from=effective_from, case_isolation_days=case_isolation_days,
                             contact_quarantine_days=contact_quarantine_days,
                             infectious_days_before_onset=infectious_days_before_onset,
                             note=(note or "").strip() or None, created_by_id=getattr(actor, "id", None))
    db.session.add(policy)
    db.session.flush()
    forget_for_transaction()
    record_event(actor, "policy.create", policy, {"effective_from": effective_from.isoformat(),
                                                  "case_isolation_days": case_isolation_days,
                                                  "contact_quarantine_days": contact_quarantine_days})
    return policy
