"""Escalations: people the call queue could not reach, for the local team to visit."""
from flask import Blueprint

bp = Blueprint("escalation", __name__, url_prefix="/escalations")
