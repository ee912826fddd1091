"""The form for a new isolation policy version."""
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Optional

from tts.ui import GovDateField, WholeNumberField


class PolicyForm(FlaskForm):
    effective_date = GovDateField("Takes effect on")
    case_isolation_days = WholeNumberField(
        "Cases isolate for this many full days after symptoms start (or the test)", validators=[Optional()],
        what="the days cases isolate", example=10)
    contact_quarantine_days = WholeNumberField(
        "Contacts quarantine for this many days after last contact", validators=[Optional()],
        what="the days contacts quarantine", example=14)
    infectious_days_before_onset = WholeNumberField(
        "Cases are infectious from this many days before symptoms (or the test)", validators=[Optional()],
        what="the days cases are infectious before symptoms", example=2)
    note = StringField("Reason for the change (optional)")
