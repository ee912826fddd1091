"""Notes: free text on a person or one of their cases, by staff (web and API)."""
from tts.audit.services import record_event
from tts.errors import ErrorCollector
from tts.extensions import db
from tts.people.models import Note

NOTE_MAX = 5000


def add_note(actor, person, text: str | None, *, case=None) -> Note:
    """A note on `person` (or on their `case`). The audit event names the record, never the words."""
    errors = ErrorCollector()
    text = (text or "").strip()
    if not text:
        errors.add("text", "Enter the note")
    elif len(text) > NOTE_MAX:
        errors.add("text", f"The note must be {NOTE_MAX:,} characters or fewer")
    if person.anonymised_at is not None:
        errors.add("text", "Their record is anonymised: notes can no longer be added")
    errors.raise_if_any()
    note = Note(person_id=person.id, case_id=getattr(case, "id", None), author_id=getattr(actor, "id", None),
                text=text)
    db.session.add(note)
    db.session.flush()
    record_event(actor, "note.create", note, {"person_id": person.id, "case_id": note.case_id})
    return note
