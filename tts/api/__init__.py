"""JSON API v1 for integrations: bearer tokens, the same services as the web pages."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

