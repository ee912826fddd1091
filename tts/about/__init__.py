"""Pages about the service itself: the accessibility statement."""
from flask import Blueprint

bp = Blueprint("about", __name__)
