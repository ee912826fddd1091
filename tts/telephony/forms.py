"""Template editing and attaching an unmatched reply."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField


class TemplateForm(FlaskForm):
    body = TextAreaField("Message")
    is_enabled = BooleanField("Send this message automatically")
    reviewed = BooleanField("A qualified translator has checked this wording")


class AttachReplyForm(FlaskForm):
    reference = StringField("Case reference of the person who sent it")


class SimulateReplyForm(FlaskForm):
    body = StringField("Reply text")
