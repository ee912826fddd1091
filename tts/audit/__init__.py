"""The append-only audit trail of who did what to which record."""
from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")

