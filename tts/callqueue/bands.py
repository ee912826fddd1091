"""The queue's order: priority bands (docs/queue.md), and the household raise that moves a household up."""
from flask import current_app
from sqlalchemy import select

from tts.callqueue.models import QUEUE_STATUSES, ItemKind, WorkItem
from tts.extensions import db
from tts.people.models import Person

# Priority bands, lowest first: callbacks; cases and household contacts; other contacts.
BAND_CALLBACK, BAND_PRIORITY, BAND_OTHER = 1, 2, 3


def fifo() -> bool:
    """TTS_QUEUE_POLICY=fifo: a plain first-come-first-served queue (no priority bands, no household calls,
    no household raise): the national call centre's way, kept as a baseline for the capacity planner."""
    return current_app.config.get("TTS_QUEUE_POLICY", "tts") == "fifo"


def compute_band(item: WorkItem, person: Person) -> int:
    """The queue band: callbacks first, then cases and household contacts, then other contacts;
    a vulnerable person, or one whose household member was just reached, is raised one band each."""
    if item.kind == ItemKind.CALLBACK:
        base = BAND_CALLBACK
    elif item.case is not None or (item.contact is not None and item.contact.relationship_ == "household"):
        base = BAND_PRIORITY
    else:
        base = BAND_OTHER
    raises = int(bool(person.is_vulnerable)) + int(bool(item.is_household_raised))
    return max(BAND_CALLBACK, base - raises)


def refresh_bands(person: Person) -> None:
    """Recompute the band of a person's queued items (after their vulnerability changes)."""
    for item in db.session.scalars(select(WorkItem).where(WorkItem.person_id == person.id,
                                                          WorkItem.status.in_(QUEUE_STATUSES))):
        item.band = compute_band(item, person)


def raise_household(person: Person) -> list[WorkItem]:
    """Household first: once one member is reached, the others' queued items move up a band."""
    if person.household_id is None or fifo():
        return []
    # SKIP LOCKED, in id order: two tracers reaching two members of one household at the same moment each
    # hold their own item and would otherwise wait for the other's (a deadlock). An
    # item locked right now is being claimed or recorded by someone: it is about to be called anyway.
    stmt = (select(WorkItem).join(Person, Person.id == WorkItem.person_id)
            .where(Person.household_id == person.household_id, WorkItem.person_id != person.id,
                   WorkItem.status.in_(QUEUE_STATUSES), WorkItem.is_household_raised.is_(False))
            .order_by(WorkItem.id).with_for_update(skip_locked=True, of=WorkItem))
    raised = []
    for item in db.session.scalars(stmt):
        item.is_household_raised = True
        item.band = compute_band(item, item.person)
        raised.append(item)
    return raised
