"""Pages about the service itself: the accessibility statement."""
from flask import Blueprint

bp = Blueprint("about", __name__)

from tts.about import views  # noqa: E402,F401
