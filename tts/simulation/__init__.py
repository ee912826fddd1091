"""The capacity planner: simulated tracing days run through the app's own queue, call and worker services."""
from flask import Blueprint

bp = Blueprint("simulation", __name__)
