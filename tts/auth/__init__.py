"""Staff accounts: sign-in, user administration, API tokens."""
from flask import Blueprint

bp = Blueprint("auth", __name__)

