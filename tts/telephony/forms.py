"""Template editing and attaching an unmatched reply."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import Optional

from tts.ui import WholeNumberField


class TemplateForm(FlaskForm):
    body = TextAreaField("Message")
    is_enabled = BooleanField("Send this message automatically")
    welfare_day = WholeNumberField("Send on this day of isolation", validators=[Optional()],
                                   what="the day of isolation", example=3)


class AttachReplyForm(FlaskForm):
    reference = StringField("Case reference of the person who sent it")


class SimulateReplyForm(FlaskForm):
    body = StringField("Reply text")
