"""Least privilege (docs/security.md): a tracer sees the people on their own work, the people they logged,
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


def found_ids() -> list[int]:
    """The people this session's exact searches found (a tracer may open them)."""
    return list(session.get(FOUND_KEY, ())) if has_request_context() else []


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


# --- One loader per kind of record, for web views and API endpoints alike --------------------------------
# A route that takes a record's id loads it through one of these, so the web page and the API operation that
# do the same thing apply the same record rule (tts/access_policy.py, RECORD_RULES, names which one each
# route uses; tests/test_access_policy.py proves it for every id-taking route).


def _load_or_403(model, record_id: int, allowed):
    """The record, or 404 when there is none, or 403 when `allowed(record)` says no."""
    from flask import abort

    record = db.session.get(model, record_id)
    if record is None:
        abort(404)
    if not allowed(record):
        abort(403)
    return record


def person_or_403(user, person_id: int):
    """The person, if `user` may see them: else 404 (no such person) or 403. A record merged into another
    raises PersonMerged (410, naming the kept record) to those who may see the kept one."""
    from tts.people.merging import PersonMerged
    from tts.people.models import Person

    def allowed(person) -> bool:
        return has_permission(user, "person.view") and may_view_person(user, person.merged_into_id or person.id)

    person = _load_or_403(Person, person_id, allowed)
    if person.merged_into_id is not None:
        raise PersonMerged(person)
    return person


def case_or_403(user, case_id: int):
    """The case, if `user` may see it: else 404 or 403."""
    from tts.cases.models import Case

    return _load_or_403(Case, case_id, lambda case: has_permission(user, "case.view") and may_view_case(user, case))


def contact_or_403(user, contact_id: int):
    """The contact record, if `user` may see its case or its person: else 404 or 403."""
    from tts.cases.models import Contact

    return _load_or_403(Contact, contact_id, lambda contact: has_permission(user, "case.view") and (
        may_view_case(user, contact.case) or may_view_person(user, contact.person_id)))


def may_record_visit(user, escalation) -> bool:
    """A doorstep visit's outcome: the local team (escalation.view), or the field officer it is assigned to."""
    return has_permission(user, "escalation.view") or (
        bool(getattr(user, "is_field_officer", False)) and escalation.assignee_id == getattr(user, "id", None))


def work_item_or_403(user, item_id: int):
    """A queue item opened by id (to see its call screen or claim it): the caller holds it, or its person is on
    their work (assigned to them, found by search...). The shared queue hands out the rest: "call next"."""
    from tts.callqueue.models import WorkItem

    return _load_or_403(WorkItem, item_id, lambda item: has_permission(user, "queue.work")
                        and may_view_person(user, item.person_id))
