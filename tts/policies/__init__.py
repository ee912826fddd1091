"""Isolation and quarantine policy: versioned data with effective dates, edited by admins."""
from flask import Blueprint

bp = Blueprint("policies", __name__, url_prefix="/admin/policies")

