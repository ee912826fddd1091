"""People helping themselves: a case's online form and a contact's confirmation from a texted personal
link (`/s/<token>`), check-in texts while isolating, and the alerts these raise for supervisors."""
from flask import Blueprint

bp = Blueprint("selfservice", __name__)
