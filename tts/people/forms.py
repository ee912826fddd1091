"""Person detail fields shared by the case, contact and edit forms; person search."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, StringField, TelField, TextAreaField

from tts.people.validation import PersonData
from tts.ui import GovDateField


class PersonFieldsForm(FlaskForm):
    first_name = StringField("First name")
    last_name = StringField("Last name")
    date_of_birth = GovDateField("Date of birth")
    phone = TelField("Phone number")
    email = EmailField("Email address (optional)")
    address = TextAreaField("Address")
    postcode = StringField("Postcode")
    language = StringField("Language for texts and calls")

    def person_data(self) -> PersonData:
        return PersonData(first_name=self.first_name.data, last_name=self.last_name.data,
                          date_of_birth=self.date_of_birth.data, phone=self.phone.data, email=self.email.data,
                          address=self.address.data, postcode=self.postcode.data, language=self.language.data or None)


class PersonEditForm(PersonFieldsForm):
    is_vulnerable = BooleanField("Clinically or socially vulnerable (raised in the call queue)")
    has_sms_opt_out = BooleanField("Does not want text messages")
    reason = TextAreaField("Why are you changing their details?")


class SearchForm(FlaskForm):
    reference = StringField("Case reference")
    phone = TelField("Phone number")
    name = StringField("Full name")
    date_of_birth = GovDateField("Date of birth")


class NoteForm(FlaskForm):
    text = TextAreaField("Note")
