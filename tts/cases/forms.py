"""Forms to log a case and to add a contact."""
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField

from tts.cases.models import RELATIONSHIP_LABELS, ClosureReason
from tts.people.forms import PersonFieldsForm
from tts.ui import GovDateField


class CaseForm(PersonFieldsForm):
    test_date = GovDateField("Test date")
    symptom_onset_date = GovDateField("Date symptoms started (leave blank if they have no symptoms)")


RELATIONSHIP_CHOICES = [(r.value, label) for r, label in RELATIONSHIP_LABELS.items()]


class ContactForm(PersonFieldsForm):
    relationship = StringField("Relationship to the case")
    last_exposure_date = GovDateField("Date of last contact with the case")


CLOSURE_CHOICES = [(reason.value, reason.label) for reason in ClosureReason]


class CloseForm(FlaskForm):
    """Close a case or contact: why (the service checks the choice, and notes for "other")."""

    reason = StringField("Why is it being closed?")
    notes = TextAreaField("Notes (needed for another reason)")