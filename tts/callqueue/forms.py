"""The outcome form on the call screen."""
import re
from datetime import datetime, time

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectMultipleField, StringField, TextAreaField

from tts.callqueue.models import OUTCOME_LABELS, Outcome
from tts.clock import LONDON
from tts.ui import GovDateField

OUTCOME_CHOICES = [(o.value, label) for o, label in OUTCOME_LABELS.items()]
# What one outcome for a whole call can be: the things that happen to a number, not to a conversation.
CALL_OUTCOME_CHOICES = [(o.value, OUTCOME_LABELS[o]) for o in (Outcome.NO_ANSWER, Outcome.VOICEMAIL, Outcome.BUSY,
                                                         Outcome.WRONG_NUMBER)]
_TIME = re.compile(r"^\s*(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?\s*$", re.IGNORECASE)


def parse_time(raw: str) -> time | None:
    """`14:30`, `2.30pm`, `9am` -> a time; None if it is not one."""
    match = _TIME.match(raw or "")
    if not match:
        return None
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), (match.group(3) or "").lower()
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


class OutcomeForm(FlaskForm):
    claim_token = HiddenField()
    outcome = StringField("What happened on the call?")
    notes = TextAreaField("Notes about the call (optional)")
    callback_date = GovDateField("Call back on")
    callback_time = StringField("At what time?")
    language = StringField("Which language do they speak?")

    def callback_at(self) -> datetime | None:
        """The callback as a London date and time; an unreadable time is reported on its field."""
        if self.outcome.data != "callback_requested":
            return None
        if self.callback_date.data is None:
            return None
        clock = parse_time(self.callback_time.data or "")
        if clock is None:
            self.callback_time.errors = list(self.callback_time.errors) + ["Enter a time, like 14:30 or 2:30pm"]
            return None
        return datetime.combine(self.callback_date.data, clock, tzinfo=LONDON)


class CallOutcomeForm(FlaskForm):
    """One outcome for everyone claimed onto one call (the number did not answer, say)."""
    outcome = StringField("What happened when you rang the number?")  # one of CALL_OUTCOME_CHOICES
    items = SelectMultipleField("Who was this call for?", coerce=int, validate_choice=False)  # held item ids
    notes = TextAreaField("Notes about the call (optional)")
