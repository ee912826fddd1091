"""The shared call queue: work items, claims (leases), call attempts, retries."""
from flask import Blueprint

bp = Blueprint("callqueue", __name__, url_prefix="/queue")
