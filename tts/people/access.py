"""Least privilege (design.md): a tracer sees the people on their own work, the people they logged,
and those they found by exact search; supervisors see everyone. Views are audited separately."""
from flask import has_request_context, session
from sqlalchemy import exists, or_, select

from tts.extensions import db
from tts.permissions import has_permission

FOUND_KEY = "found_people"  # ids a search returned, for this signed-in session only


def remember_found(people) -> None:
    if has_request_context():
        ids = list(dict.fromkeys([*session.get(FOUND_KEY, []), *(p.id for p in people)]))
        session[FOUND_KEY] = ids[-500:]


def may_view_person(user, person_id: int) -> bool:
    from tts.callqueue.models import CallAttempt, WorkItem
    from tts.cases.models import Case, Contact
    from tts.escalation.models import Escalation

    if has_permission(user, "case.view_all"):
        return True
    if not (has_permission(user, "person.view") or getattr(user, "is_field_officer", False)):
        return False
    if has_request_context() and person_id in session.get(FOUND_KEY, ()):
        return True
    own_cases = select(Case.id).where(Case.created_by_id == user.id)
    return bool(db.session.scalar(select(or_(
        exists().where(WorkItem.person_id == person_id,
                       or_(WorkItem.claimed_by_id == user.id, WorkItem.assignee_id == user.id)),
        exists().where(CallAttempt.person_id == person_id, CallAttempt.tracer_id == user.id),
        exists().where(Case.person_id == person_id, Case.created_by_id == user.id),
        exists().where(Contact.person_id == person_id,
                       or_(Contact.created_by_id == user.id, Contact.case_id.in_(own_cases))),
        exists().where(Escalation.person_id == person_id, Escalation.assignee_id == user.id),
    ))))


def may_view_case(user, case) -> bool:
    return (has_permission(user, "case.view_all") or case.created_by_id == getattr(user, "id", None)
            or may_view_person(user, case.person_id))
