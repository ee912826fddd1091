"""Sign-in and user administration forms."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField

from tts.permissions import ROLE_LABELS

# Radio choices are rendered from here; the service checks the value.
ROLE_CHOICES = [(role.value, label) for role, label in ROLE_LABELS.items()]


class LoginForm(FlaskForm):
    email = EmailField("Email address")
    password = PasswordField("Password")


class UserCreateForm(FlaskForm):
    name = StringField("Full name")
    email = EmailField("Email address")
    role = StringField("Role")
    password = PasswordField("Initial password")


class UserEditForm(FlaskForm):
    name = StringField("Full name")
    role = StringField("Role")
    is_active = BooleanField("Account is active")
    is_field_officer = BooleanField("Field officer: makes doorstep visits")
    can_export_identifiable = BooleanField("May export identifiable data (names, numbers, addresses)")
    password = PasswordField("New password (leave blank to keep the current one)")


class ProfileForm(FlaskForm):
    phone = StringField("Your phone number")
    languages = StringField("Languages you can make calls in, besides English")
    confirmation = PasswordField("Your password, or a code from your authenticator app (only to change your phone)")


class RecoveryCodesForm(FlaskForm):
    confirmation = PasswordField("Your password, or a code from your authenticator app")


class CodeForm(FlaskForm):
    code = StringField("Code from your authenticator app, or a recovery code")


class EnrolForm(FlaskForm):
    code = StringField("Code from your authenticator app")


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("Current password")
    new_password = PasswordField("New password")
