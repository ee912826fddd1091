"""Twilio: SMS through the outbox, masked calls, and the signed webhooks (plus a simulated gateway)."""
from flask import Blueprint

bp = Blueprint("telephony", __name__)
webhooks_bp = Blueprint("twilio_webhooks", __name__, url_prefix="/twilio")
