"""The form for a new isolation policy version."""
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import Optional

from tts.ui import GovDateField


class PolicyForm(FlaskForm):
    effective_date = GovDateField("Takes effect on")
    case_isolation_days = IntegerField("Cases isolate for this many full days after symptoms start (or the test)",
                                       validators=[Optional()])
    contact_quarantine_days = IntegerField("Contacts quarantine for this many days after last contact",
                                           validators=[Optional()])
    infectious_days_before_onset = IntegerField("Cases are infectious from this many days before symptoms (or the test)",
                                                validators=[Optional()])
    note = StringField("Reason for the change (optional)")
