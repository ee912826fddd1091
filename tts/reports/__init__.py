"""KPIs, charts, publication tables and exports for council staff."""
from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")
