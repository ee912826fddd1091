"""Running the service: health and readiness checks, Prometheus metrics, request ids and JSON logs, the
workers' heartbeats (docs/deploy.md, docs/operations.md). It serves every feature and sits beside the worker,
inside none of them."""
from flask import Blueprint

bp = Blueprint("ops", __name__)
