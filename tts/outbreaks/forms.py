"""Forms: a setting in the register, linking a case to one, an outbreak's actions and status."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TelField, TextAreaField

from tts.outbreaks.models import RECORDABLE_ACTIONS, OutbreakStatus, SettingKind
from tts.outbreaks.settings import SettingData
from tts.ui import GovDateField, WholeNumberField

KIND_CHOICES = [(k.value, k.label) for k in SettingKind]
ACTION_CHOICES = [(k.value, k.label) for k in RECORDABLE_ACTIONS]
STATUS_CHOICES = [(s.value, s.label) for s in OutbreakStatus]


class SettingForm(FlaskForm):
    name = StringField("Name")
    kind = StringField("What kind of setting is it?")
    address = TextAreaField("Address")
    postcode = StringField("Postcode")
    contact_name = StringField("Contact's name")
    contact_phone = TelField("Contact's phone number")
    contact_email = StringField("Contact's email address")
    size = WholeNumberField("How many people attend it (optional)", what="how many people attend it", example=40)
    notes = TextAreaField("Notes (optional)")
    radio_fields = ("kind",)

    def data_(self) -> SettingData:
        return SettingData(**{name: getattr(self, name).data for name in SettingData.__dataclass_fields__})


class LinkForm(FlaskForm):
    setting_id = StringField("Setting")
    last_attended = GovDateField("When did they last attend it? (optional)")
    radio_fields = ("setting_id",)


class OpenForm(FlaskForm):
    reason = TextAreaField("Why are you opening an outbreak?")


class ActionForm(FlaskForm):
    kind = StringField("What was done, or needs doing?")
    notes = TextAreaField("Notes")
    due_date = GovDateField("Due date (for something still to do)")
    todo = BooleanField("Still to do: not done yet (give a due date)")
    radio_fields = ("kind",)


class DoneForm(FlaskForm):
    action_id = HiddenField()


class StatusForm(FlaskForm):
    status = StringField("Status")
    reason = TextAreaField("Why?")
    radio_fields = ("status",)
