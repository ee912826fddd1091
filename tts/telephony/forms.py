"""Template editing and attaching an unmatched reply."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, StringField, TextAreaField
from wtforms.validators import Optional


class TemplateForm(FlaskForm):
    body = TextAreaField("Message")
    is_enabled = BooleanField("Send this message automatically")
    welfare_day = IntegerField("Send on this day of isolation", validators=[Optional()])


class AttachReplyForm(FlaskForm):
    reference = StringField("Case reference of the person who sent it")


class SimulateReplyForm(FlaskForm):
    body = StringField("Reply text")
