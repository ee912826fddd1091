"""Sign-in and user administration forms."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, RadioField, StringField

from tts.permissions import ROLE_LABELS

ROLE_CHOICES = [(role.value, label) for role, label in ROLE_LABELS.items()]


class LoginForm(FlaskForm):
    email = EmailField("Email address")
    password = PasswordField("Password")


class UserCreateForm(FlaskForm):
    name = StringField("Full name")
    email = EmailField("Email address")
    role = RadioField("Role", choices=ROLE_CHOICES, validate_choice=False)
    password = PasswordField("Initial password")


class UserEditForm(FlaskForm):
    name = StringField("Full name")
    role = RadioField("Role", choices=ROLE_CHOICES, validate_choice=False)
    is_active = BooleanField("Account is active")
    password = PasswordField("New password (leave blank to keep the current one)")
