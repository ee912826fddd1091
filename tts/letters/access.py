"""The record rule for a letter: whoever may see the record it was made from (a case, a contact record, or an
outbreak: supervisors) may see the letter."""
from flask import abort

from tts.extensions import db
from tts.letters.models import Letter
from tts.people.access import case_or_403, contact_or_403
from tts.permissions import has_permission


def letter_or_403(user, letter_id: int) -> Letter:
    letter = db.session.get(Letter, letter_id)
    if letter is None:
        abort(404)
    if letter.case_id is not None:
        case_or_403(user, letter.case_id)
    elif letter.contact_id is not None:
        contact_or_403(user, letter.contact_id)
    elif not has_permission(user, "outbreak.manage"):
        abort(403)
    return letter
