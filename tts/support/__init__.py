"""Support for people isolating: food, medicine, isolation payments and more."""
from flask import Blueprint

bp = Blueprint("support", __name__)
