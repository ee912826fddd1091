"""A person's timeline: everything that happened to them, newest first."""
from dataclasses import dataclass
from datetime import datetime


@dataclass
class TimelineEntry:
    at: datetime
    title: str
    detail: str
    link_endpoint: str | None = None
    link_args: dict | None = None


def person_timeline(person) -> list[TimelineEntry]:
    """Case and contact records now; calls, messages and support join as those features land."""
    entries = []
    for case in person.cases:
        onset = f"symptoms from {case.symptom_onset_date:%-d %B %Y}" if case.symptom_onset_date else "no symptoms"
        entries.append(TimelineEntry(case.created_at, f"Positive case {case.reference}",
                                     f"Tested {case.test_date:%-d %B %Y}, {onset}. "
                                     f"Isolation ends {case.isolation_end_date:%-d %B %Y}.",
                                     "cases.show", {"case_id": case.id}))
    for contact in person.contact_records:
        entries.append(TimelineEntry(contact.created_at, f"Named as a {contact.relationship_} contact of {contact.case.reference}",
                                     f"Last contact {contact.last_exposure_date:%-d %B %Y}. "
                                     f"Quarantine ends {contact.quarantine_end_date:%-d %B %Y}.",
                                     "cases.show", {"case_id": contact.case_id}))
    return sorted(entries, key=lambda e: e.at, reverse=True)
