"""Letters: isolation notes, quarantine advice letters and outbreak advice letters, as PDFs from templates an
admin edits; stored, listed on the record, audited, emailed by the worker or printed."""
from flask import Blueprint

bp = Blueprint("letters", __name__)
