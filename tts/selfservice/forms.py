"""The self-service pages' forms: one question a page (GOV.UK "one thing per page")."""
from flask_wtf import FlaskForm
from wtforms import Field, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from tts.people.languages import SHIPPED
from tts.selfservice.models import ContactResponse
from tts.ui import GovDateField


class RadioField(StringField):
    """One of `choices` (value, label), chosen with GOV.UK radios; `message` when none is."""

    def __init__(self, label=None, choices=(), validators=None, **kwargs):
        message = next((v.message for v in validators or () if isinstance(v, InputRequired)), "Choose one")
        super().__init__(label, **kwargs)
        self.choices, self.message = list(choices), message

    def pre_validate(self, form):
        if self.data not in {value for value, _ in self.choices}:
            raise ValidationError(self.message)


class CheckboxesField(Field):
    """Any of `choices`, chosen with GOV.UK checkboxes: data is the list of values."""

    def __init__(self, label=None, **kwargs):
        super().__init__(label, **kwargs)
        self.choices: list[tuple[str, str]] = []

    def process_formdata(self, valuelist):
        self.data = list(valuelist)

    def pre_validate(self, form):
        if set(self.data or ()) - {value for value, _ in self.choices}:
            raise ValidationError("Choose from the list")


class VerifyForm(FlaskForm):
    date_of_birth = GovDateField("What is your date of birth?")

    def validate_date_of_birth(self, field):
        if field.data is None and not field.errors:
            raise ValidationError("Enter your date of birth")


class LanguageForm(FlaskForm):
    radio_fields = ("language",)
    language = RadioField("Which language should we send you texts in?",
                          choices=list(SHIPPED.items()), validators=[InputRequired("Choose a language")])


class SymptomsForm(FlaskForm):
    radio_fields = ("symptoms",)
    symptoms = RadioField("Have you had any symptoms of COVID-19?", choices=[("yes", "Yes"), ("no", "No")],
                          validators=[InputRequired("Select yes if you have had symptoms")])


class OnsetForm(FlaskForm):
    onset_date = GovDateField("When did your symptoms start?")

    def validate_onset_date(self, field):
        if field.data is None and not field.errors:
            raise ValidationError("Enter the date your symptoms started")


class AddAnotherForm(FlaskForm):
    radio_fields = ("add",)
    add = RadioField("Do you need to add someone?", choices=[("yes", "Yes"), ("no", "No")],
                     validators=[InputRequired("Select yes if you need to add someone")])


class PersonForm(FlaskForm):
    first_name = StringField("First name", validators=[InputRequired("Enter their first name"), Length(max=100)])
    last_name = StringField("Last name", validators=[InputRequired("Enter their last name"), Length(max=100)])
    phone = StringField("Mobile phone number (optional)", validators=[Optional(), Length(max=30)])


class ContactPersonForm(PersonForm):
    page_order = ("first_name", "last_name", "phone", "last_contact")
    last_contact = GovDateField("When were you last close to them?")

    def validate_last_contact(self, field):
        if field.data is None and not field.errors:
            raise ValidationError("Enter the date you were last close to them")


class PlacesForm(FlaskForm):
    places = TextAreaField("Where did you go in the 2 days before your symptoms started (or your test)?",
                           validators=[Optional(), Length(max=2000, message="Keep this to 2,000 characters or fewer")])


class SupportForm(FlaskForm):
    support = CheckboxesField("What help do you need to stay at home?")
    support_detail = TextAreaField("Tell us more (optional)",
                                   validators=[Optional(), Length(max=1000, message="Keep this to 1,000 characters or fewer")])


class ContactResponseForm(FlaskForm):
    radio_fields = ("response",)
    response = RadioField("What do you want to tell us?", choices=[
        (ContactResponse.CONFIRMED.value, "I have read the advice and I will stay at home"),
        (ContactResponse.CALL_ME.value, "Please call me: I have questions"),
        (ContactResponse.SYMPTOMS.value, "I have symptoms of COVID-19")],
                          validators=[InputRequired("Choose what you want to tell us")])
