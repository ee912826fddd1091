"""Forms to log a case and to add a contact."""
from flask_wtf import FlaskForm
from wtforms import Form, StringField, TelField, TextAreaField

from tts.cases.models import RELATIONSHIP_LABELS, ClosureReason
from tts.people.forms import PersonFieldsForm
from tts.people.validation import PersonData
from tts.ui import GovDateField


class CaseForm(PersonFieldsForm):
    test_date = GovDateField("Test date")
    symptom_onset_date = GovDateField("Date symptoms started (leave blank if they have no symptoms)")
    new_episode = StringField("Is this a new illness?")  # asked only when they already have a current case

    @property
    def is_new_episode(self) -> bool:
        return self.new_episode.data == "yes"


RELATIONSHIP_CHOICES = [(r.value, label) for r, label in RELATIONSHIP_LABELS.items()]


class ContactForm(PersonFieldsForm):
    relationship = StringField("Relationship to the case")
    last_exposure_date = GovDateField("Date of last contact with the case")
    # The page asks about the contact before who they are: the error summary follows the page.
    page_order = ("relationship", "last_exposure_date", "first_name", "last_name", "date_of_birth", "phone", "email",
                  "address", "postcode", "language")


CLOSURE_CHOICES = [(reason.value, reason.label) for reason in ClosureReason]


class CloseForm(FlaskForm):
    """Close a case or contact: why (the service checks the choice, and notes for "other")."""

    reason = StringField("Why is it being closed?")
    notes = TextAreaField("Notes (needed for another reason)")
    radio_fields = ("reason",)  # the error summary links to the first choice

EPISODE_CHOICES = [("yes", "Yes: a new illness, log a new case"), ("no", "No: the same illness")]


class ConvertForm(FlaskForm):
    """A contact tested positive: the test and onset dates, and any detail a case needs that they lack."""

    test_date = GovDateField("Test date")
    symptom_onset_date = GovDateField("Date symptoms started (leave blank if they have no symptoms)")
    date_of_birth = GovDateField("Date of birth")
    address = TextAreaField("Address")
    postcode = StringField("Postcode")

    def person_data(self) -> PersonData:
        return PersonData(date_of_birth=self.date_of_birth.data, address=self.address.data,
                          postcode=self.postcode.data)


class CorrectCaseForm(FlaskForm):
    test_date = GovDateField("Test date")
    symptom_onset_date = GovDateField("Date symptoms started (leave blank if they have no symptoms)")
    reason = TextAreaField("Why are you correcting it?")


class CorrectContactForm(FlaskForm):
    relationship = StringField("Relationship to the case")
    last_exposure_date = GovDateField("Date of last contact with the case")
    reason = TextAreaField("Why are you correcting it?")


class ContactRowForm(Form):
    """One line of the contacts line list (prefix `c<n>`): what a tracer hears first about each contact."""

    first_name = StringField("First name")
    last_name = StringField("Last name")
    relationship = StringField("Relationship")
    last_exposure_date = GovDateField("Last contact")
    phone = TelField("Phone number")
    date_of_birth = GovDateField("Date of birth (optional)")

    def is_blank(self) -> bool:
        return not any((self.first_name.data or "").strip() or (self.last_name.data or "").strip()
                       or (self.phone.data or "").strip() or self.relationship.data
                       or any(f.raw.values()) for f in (self.last_exposure_date, self.date_of_birth))

    def person_data(self) -> PersonData:
        """(Household members get the case's address: the service's rule, `intake.check_contact`.)"""
        return PersonData(first_name=self.first_name.data, last_name=self.last_name.data,
                          date_of_birth=self.date_of_birth.data, phone=self.phone.data)
