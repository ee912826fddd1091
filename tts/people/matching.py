"""Who someone already known is, and what is kept of them: the matching rules that the services (one
person at a time, tts/people/services.py) and the set-based import (a whole file, tts/imports/bulk.py)
both apply. Each works on any object with the person's attributes: a row, or the import's own record."""

FILLABLE = ("phone", "email", "address", "postcode", "language")  # a known person's details that a new entry may fill in


def _same(a: str | None, b: str | None) -> bool:
    return bool(a and b) and a.casefold() == b.casefold()


def is_same_person(known, entered) -> bool:
    """The person entered is someone already known: the same first name, date of birth and phone, or the
    same first and last name, date of birth and postcode (names ignoring case). Two different first names
    are never one person, whatever else they share: twins on a parent's phone are two people. Without a
    date of birth, nobody is matched."""
    born = entered.date_of_birth
    if born is None or known.date_of_birth != born or not _same(known.first_name, entered.first_name):
        return False
    if entered.phone and known.phone == entered.phone:
        return True
    return bool(entered.postcode and known.postcode == entered.postcode and _same(known.last_name, entered.last_name))


def fill_in(known, entered) -> list[str]:
    """A known person keeps the details they have; those they lack are taken from the new entry. Returns
    the names of the fields filled in (for the audit event)."""
    filled = [name for name in FILLABLE if getattr(entered, name) and not getattr(known, name)]
    for name in filled:
        setattr(known, name, getattr(entered, name))
    return filled


def household_key(address: str) -> str:
    """An address as households are matched: ignoring case, commas and spacing."""
    return " ".join(address.lower().replace(",", " ").split())
