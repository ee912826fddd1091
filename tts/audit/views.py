"""Browsing and filtering the audit log."""
from flask import render_template, request, url_for
from sqlalchemy import select

from tts.input_guard import bounded_int
from tts.audit import bp
from tts.audit.services import audit_query
from tts.auth.models import User
from tts.extensions import db
from tts.permissions import require


def _int(name: str) -> int | None:
    return bounded_int(request.args.get(name, ""), 0)


def _date(name: str):
    from datetime import date

    try:
        return date.fromisoformat(request.args.get(name, "").strip())
    except ValueError:
        return None


PER_PAGE = 50


@bp.route("/")
@require("audit.view")
def index():
    filters = {
        "actor_id": _int("actor_id"),
        "action": request.args.get("action", "").strip() or None,
        "record_type": request.args.get("record_type", "").strip() or None,
        "record_id": _int("record_id"),
        "date_from": _date("from"),
        "date_to": _date("to"),
    }
    # No total count: over millions of events it would cost more than the page. One row more than a page
    # says whether there is an older page.
    number = max(1, _int("page") or 1)
    rows = db.session.scalars(audit_query(**filters).offset((number - 1) * PER_PAGE).limit(PER_PAGE + 1)).all()
    items, has_next = rows[:PER_PAGE], len(rows) > PER_PAGE
    staff = db.session.scalars(select(User).order_by(User.name)).all()
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    prev_url = url_for("audit.index", page=number - 1, **args) if number > 1 else None
    next_url = url_for("audit.index", page=number + 1, **args) if has_next else None
    first = (number - 1) * PER_PAGE + 1
    return render_template("audit/index.html", items=items, first=first, staff=staff, args=request.args,
                           prev_url=prev_url, next_url=next_url)
