"""Supervisors: the live dashboard, tracer activity, and reassigning work."""
from flask import Blueprint

bp = Blueprint("supervision", __name__, url_prefix="/supervise")
