"""JSON shapes of API resources."""
from tts.cases.models import Case, Contact
from tts.people.models import Person
from tts.selfservice.links import self_service_summary


def _d(value):
    return value.isoformat() if value is not None else None


def person_json(person: Person) -> dict:
    return {
        "id": person.id,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "date_of_birth": _d(person.date_of_birth),
        "phone": person.phone,
        "email": person.email,
        "address": person.address,
        "postcode": person.postcode,
        "household_id": person.household_id,
        "language": person.language,
        "is_vulnerable": person.is_vulnerable,
        "has_sms_opt_out": person.has_sms_opt_out,
        "sms_opt_out": person.has_sms_opt_out,
    }


def _closure(record) -> dict:
    return {"closure_reason": record.closure_reason, "closure_notes": record.closure_notes,
            "closed_at": _d(record.closed_at)}


def contact_json(contact: Contact, *, with_person: bool = True) -> dict:
    data = {
        "id": contact.id,
        "case_id": contact.case_id,
        "person_id": contact.person_id,
        "relationship": contact.relationship_,
        "last_exposure_date": _d(contact.last_exposure_date),
        "quarantine_end_date": _d(contact.quarantine_end_date),
        "household_id": contact.household_id,
        "status": contact.status,
        "created_at": _d(contact.created_at),
        **_closure(contact),
        "became_case_id": contact.became_case_id,
        "source": contact.source,
        "reached_by": contact.reached_by,
    }
    if with_person:
        data["person"] = person_json(contact.person)
    return data


def case_json(case: Case, *, with_contacts: bool = False, self_service: dict | None = None) -> dict:
    """A case; `self_service`: its summary when the caller read a page's at once (self_service_summaries)."""
    data = {
        "id": case.id,
        "reference": case.reference,
        "status": case.status,
        "source": case.source,
        "test_date": _d(case.test_date),
        "symptom_onset_date": _d(case.symptom_onset_date),
        "isolation_end_date": _d(case.isolation_end_date),
        "policy_id": case.policy_id,
        "created_at": _d(case.created_at),
        **_closure(case),
        "exposed_by_case_id": case.exposed_by_case_id,
        "self_service": _self_service(self_service or self_service_summary(case)),
        "person": person_json(case.person),
    }
    if with_contacts:
        data["contacts"] = [contact_json(c) for c in case.contacts]
    return data


def _self_service(summary: dict) -> dict:
    return {"status": summary["status"], "completed_at": _d(summary["completed_at"])}


def checkin_json(checkin) -> dict:
    return {"id": checkin.id, "day": checkin.day, "due_at": _d(checkin.due_at), "sent_at": _d(checkin.sent_at),
            "reply": checkin.reply, "replied_at": _d(checkin.replied_at), "missed_at": _d(checkin.missed_at),
            "case_id": checkin.case_id, "contact_id": checkin.contact_id}


def support_need_json(need) -> dict:
    return {"id": need.id, "person_id": need.person_id, "kind": need.kind, "urgency": need.urgency,
            "status": need.status, "referred_to": need.referred_to, "notes": need.notes,
            "created_at": _d(need.created_at), "updated_at": _d(need.updated_at), "closed_at": _d(need.closed_at)}


def note_json(note) -> dict:
    return {"id": note.id, "person_id": note.person_id, "case_id": note.case_id, "text": note.text,
            "author_id": note.author_id, "created_at": _d(note.created_at)}


def work_item_json(item) -> dict:
    return {
        "id": item.id,
        "kind": item.kind,
        "subject_type": item.subject_type,
        "subject_id": item.subject_id,
        "person": person_json(item.person),
        "priority": item.band,
        "status": item.status,
        "due_at": _d(item.due_at),
        "claimed_until": _d(item.claimed_until),
        "claim_token": item.claim_token,
        "attempts": item.attempts,
        "assignee_id": item.assignee_id,
    }


def attempt_json(attempt) -> dict:
    return {
        "id": attempt.id,
        "work_item_id": attempt.work_item_id,
        "person_id": attempt.person_id,
        "tracer_id": attempt.tracer_id,
        "outcome": attempt.outcome,
        "notes": attempt.notes,
        "callback_at": _d(attempt.callback_at),
        "language": attempt.language,
        "created_at": _d(attempt.created_at),
    }


def escalation_json(escalation) -> dict:
    return {
        "id": escalation.id,
        "person_id": escalation.person_id,
        "household_id": escalation.household_id,
        "work_item_id": escalation.work_item_id,
        "reason": escalation.reason,
        "detail": escalation.detail,
        "status": escalation.status,
        "assignee_id": escalation.assignee_id,
        "visit_outcome": escalation.visit_outcome,
        "resolution": escalation.resolution,
        "created_at": _d(escalation.created_at),
        "resolved_at": _d(escalation.resolved_at),
    }


def message_json(message) -> dict:
    return {
        "id": message.id,
        "person_id": message.person_id,
        "direction": message.direction,
        "channel": message.channel,
        "trigger": message.trigger,
        "status": message.status,
        "body": message.body,
        "twilio_sid": message.twilio_sid,
        "error_code": message.error_code,
        "error_message": message.error_message,
        "created_at": _d(message.created_at),
    }
