"""Importing national referrals from CSV: whole-file validation, one transaction, history."""
from flask import Blueprint

bp = Blueprint("imports", __name__, url_prefix="/imports")
