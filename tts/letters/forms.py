from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField


class EmailForm(FlaskForm):
    email_to = StringField("Email address")


class WordingForm(FlaskForm):
    heading = StringField("Heading")
    body = TextAreaField("Body")
