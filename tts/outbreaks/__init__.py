"""Settings (care homes, schools, workplaces), the outbreaks found in them, and their management."""
from flask import Blueprint

bp = Blueprint("outbreaks", __name__)
