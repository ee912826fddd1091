"""People and households: who they are, their timeline, and search."""
from flask import Blueprint

bp = Blueprint("people", __name__)

