"""Shared UI pieces: the GOV.UK date field, mapping service errors onto forms, template helpers."""
from collections.abc import Callable
from datetime import date, datetime
from typing import TypeVar

from flask import Flask, request
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import Field
from wtforms.utils import unset_value

from tts.clock import to_london
from tts.errors import ValidationFailed
from tts.permissions import ROLE_LABELS, Role, can, public
from tts.transaction import undo


T = TypeVar("T")


class GovDateField(Field):
    """A GOV.UK date input: three boxes named `<name>-day`, `-month`, `-year`; data is a date or None."""

    def process(self, formdata, data=unset_value, extra_filters=None):
        self.process_errors = []
        if data is unset_value:
            data = self.default() if callable(self.default) else self.default
        self.object_data = data
        self.data = data
        self.raw = ({"day": str(data.day), "month": str(data.month), "year": str(data.year)}
                    if isinstance(data, date) else {"day": "", "month": "", "year": ""})
        if formdata is None:
            return
        parts = {k: (formdata.get(f"{self.name}-{k}") or "").strip() for k in ("day", "month", "year")}
        if not any(parts.values()) and not any(f"{self.name}-{k}" in formdata for k in parts):
            return
        self.raw = parts
        self.data = None
        if not any(parts.values()):
            return
        missing = [k for k, v in parts.items() if not v]
        if missing:
            self.process_errors.append(f"{self.label.text} must include a {' and '.join(missing)}")
            return
        try:
            year = int(parts["year"])
            if year < 1000:
                raise ValueError
            self.data = date(year, int(parts["month"]), int(parts["day"]))
        except ValueError:
            self.process_errors.append(f"{self.label.text} must be a real date")


def apply_errors(form: FlaskForm, exc: ValidationFailed, prefix: str = "person.",
                 aliases: dict[str, str] | None = None) -> None:
    """Show a service's field errors on the form's fields (`person.phone` -> the `phone` field; `aliases`
    names the field for a service key the form has no field for). A field the form already faulted (an
    impossible date, say) keeps its own, more precise message."""
    for key, messages in exc.errors.items():
        name = key.removeprefix(prefix)
        name = (aliases or {}).get(name, name)
        field = form._fields.get(name)
        if field is None:
            form.form_errors.extend(messages)
        elif not field.errors:
            field.errors = list(messages)


def submit(form: FlaskForm, action: Callable[[], T], prefix: str = "person.",
           aliases: dict[str, str] | None = None) -> T | None:
    """Validate a posted form and run the service `action`, showing every problem at once.

    The service runs even when the form itself found a problem, so that its rules report too;
    the work is then rolled back. Returns the action's result only when everything passed.
    """
    if not form.is_submitted():
        return None
    form_ok = form.validate()
    try:
        result = action()
    except ValidationFailed as exc:
        undo()
        apply_errors(form, exc, prefix, aliases)
        return None
    if not form_ok:
        undo()
        return None
    return result


def flash_errors(lead: str, exc: ValidationFailed) -> None:
    """For pages whose forms sit in tables: report a service's field errors in one message."""
    from flask import flash

    flash(lead + ": " + "; ".join(m for messages in exc.errors.values() for m in messages), "error")


def _datetime(value, fmt: str = "%-d %b %Y %H:%M") -> str:
    return to_london(value).strftime(fmt) if value else ""


def _date(value, fmt: str = "%-d %B %Y") -> str:
    return value.strftime(fmt) if value else ""


def init_app(app: Flask) -> None:
    from tts.people.validation import format_phone

    app.jinja_env.filters["datetime"] = _datetime
    app.jinja_env.filters["date"] = _date
    app.jinja_env.filters["iso_london"] = lambda text: _datetime(datetime.fromisoformat(text), "%H:%M, %-d %B") \
        if text else ""
    app.jinja_env.filters["phone"] = format_phone
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _globals():
        from tts.auth.mfa import recovery_codes_left
        from tts.callqueue.models import KIND_LABELS as ITEM_KIND_LABELS
        from tts.callqueue.models import OUTCOME_LABELS
        from tts.support.models import KIND_LABELS, URGENCY_LABELS

        return {"can": can, "role_labels": ROLE_LABELS, "Role": Role, "current_user": current_user,
                "outcome_labels": OUTCOME_LABELS, "kind_labels": ITEM_KIND_LABELS,
                "nav": _navigation(), "support_kinds": KIND_LABELS, "support_urgencies": URGENCY_LABELS,
                "recovery_left": recovery_codes_left}

    @app.route("/favicon.ico")
    @public
    def favicon():
        # The service's own mark (the GOV.UK crown is for central government services only); browsers ask
        # for this path whatever the page says.
        return app.send_static_file("favicon.ico")

    @app.route("/assets/<path:filename>")
    @public
    def govuk_assets(filename: str):
        # govuk-frontend's compiled CSS refers to /assets/fonts and /assets/images.
        return app.send_static_file(f"govuk/assets/{filename}")


def _navigation() -> list[dict]:
    from flask import g

    if g.get("db_unavailable") or not current_user.is_authenticated:
        return []
    items = [
        ("supervision.dashboard", "Dashboard", "supervise"),
        ("reports.kpis", "How we are doing", "reports.view"),
        ("simulation.planner", "Capacity planner", "reports.view"),
        ("callqueue.my_work", "My work", "queue.work"),
        ("cases.index", "Cases", "case.create"),
        ("people.search", "Find a person", "person.search"),
        ("auth.users", "Users", "user.manage"),
        ("policies.index", "Isolation policy", "policy.manage"),
        ("escalation.index", "Escalations", "escalation.view"),
        ("support.queue", "Support needs", "support.manage"),
        ("imports.index", "Imports", "import.run"),
        ("telephony.unmatched", "Unmatched replies", "escalation.view"),
        ("telephony.templates", "Text messages", "template.manage"),
        ("audit.index", "Audit log", "audit.view"),
    ]
    from flask import url_for

    endpoint = request.endpoint or ""
    nav = [{"href": url_for(ep), "text": text,
            "active": endpoint.split(".")[0] == ep.split(".")[0] and (ep != "auth.users" or endpoint.startswith("auth.user"))}
           for ep, text, perm in items if can(perm)]
    if getattr(current_user, "is_field_officer", False):
        nav.insert(0, {"href": url_for("escalation.visits"), "text": "My visits",
                       "active": endpoint == "escalation.visits"})
    return nav
