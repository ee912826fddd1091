"""Shared UI pieces: the GOV.UK date field, mapping service errors onto forms, template helpers."""
from collections.abc import Callable
from datetime import date, datetime
from typing import TypeVar

from flask import Flask, request
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import Field, IntegerField
from wtforms.utils import unset_value

from tts.clock import to_london
from tts.errors import ValidationFailed
from tts.permissions import ROLE_LABELS, Role, can, public
from tts.transaction import undo


T = TypeVar("T")


class WholeNumberField(IntegerField):
    """A whole number, with the GOV.UK style message when it is not one ("Enter the days contacts quarantine as
    a whole number, like 14") instead of WTForms' "Not a valid integer value."."""

    def __init__(self, label=None, validators=None, *, what: str, example: int, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.what, self.example = what, example

    def process_formdata(self, valuelist):
        raw = (valuelist[0] if valuelist else "").strip().replace(",", "")
        if not raw:
            self.data = None
            return
        try:
            self.data = int(raw)
        except ValueError:
            self.data = None
            raise ValueError(f"Enter {self.what} as a whole number, like {self.example}") from None


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


def flash_errors(lead: str, exc: ValidationFailed, targets: dict[str, str] | None = None,
                 who: str | None = None) -> None:
    """A form in a table row or a card failed: after the redirect, the page opens with the GOV.UK error summary
    (the one pattern every form uses), each message linked to its field, in `targets` order (the order of the
    fields on the page: field name -> the element's id), and the same message beside the field (`row_error`).
    `who` names the row ("Kit Bramall: Choose what happened at the door")."""
    from flask import session

    targets = targets or {}
    items = []
    for field in list(targets) + [f for f in exc.errors if f not in targets]:
        for message in exc.errors.get(field, []):
            items.append([targets.get(field), f"{who}: {message}" if who else message])
    session["tts_errors"] = {"lead": lead, "items": items}


def row_error(target: str) -> str | None:
    """The message for the field with this id, from a row form that just failed (see flash_errors)."""
    from flask import g

    for found, text in (g.get("form_errors") or {}).get("items", []):
        if found == target:
            return text.split(": ", 1)[-1] if ": " in text else text
    return None


def percent(share: float | None, places: int = 0) -> str:
    """A share (0.0 to 1.0) as the service writes percentages everywhere: "45%", no space, whole numbers unless
    asked (GOV.UK style); "" for no figure."""
    if share is None:
        return ""
    return f"{share * 100:.{places}f}%"


def duration(minutes: float | None) -> str:
    """Minutes in words: "45 minutes", "1 hour 5 minutes", "2 hours"."""
    if minutes is None:
        return ""
    hours, rest = divmod(round(minutes), 60)
    parts = ([f"{hours} hour{'s' if hours != 1 else ''}"] if hours else []) + \
        ([f"{rest} minute{'s' if rest != 1 else ''}"] if rest or not hours else [])
    return " ".join(parts)


# Dates and times are written one way on every page: "6 December 2026" and "6 December 2026, 14:05" (24-hour:
# the team works shifts and reads audit times); tables short of room abbreviate the month ("6 Dec 2026").
DATE_FORMAT, DATETIME_FORMAT = "%-d %B %Y", "%-d %B %Y, %H:%M"


def _datetime(value, fmt: str = DATETIME_FORMAT) -> str:
    return to_london(value).strftime(fmt) if value else ""


def _date(value, fmt: str = DATE_FORMAT) -> str:
    if isinstance(value, str) and value:
        value = date.fromisoformat(value)  # a date kept as text (a self-service answer)
    return value.strftime(fmt) if value else ""


def init_app(app: Flask) -> None:
    from tts.people.validation import format_phone

    @app.before_request
    def _row_form_errors():
        from flask import g, session

        if "tts_errors" in session:
            g.form_errors = session.pop("tts_errors")

    app.jinja_env.globals["row_error"] = row_error
    from tts.people.languages import KNOWN, name_of

    app.jinja_env.globals["known_languages"] = sorted(KNOWN.items(), key=lambda kv: kv[1])
    app.jinja_env.filters["language"] = name_of
    app.jinja_env.filters["datetime"] = _datetime
    app.jinja_env.filters["date"] = _date
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.filters["iso_date"] = lambda text: _date(date.fromisoformat(text), "%-d %b %Y") if text else ""
    app.jinja_env.filters["duration"] = duration
    app.jinja_env.filters["iso_london"] = lambda text: _datetime(datetime.fromisoformat(text)) \
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


# The service navigation. Links are grouped by what they are for; a person who may open two or more of a
# group's pages gets one link to the group's page (a list of them, with what each is for) instead of one each,
# so a supervisor's navigation is seven links, not eleven, and fits a phone's menu.
NAV_ITEMS = [
    ("supervision.dashboard", "Dashboard", "supervise", None),
    ("callqueue.my_work", "My work", "queue.work", None),
    ("cases.index", "Cases", "case.create", None),
    ("imports.index", "Imports", "import.run", None),
    ("outbreaks.index", "Outbreaks", "outbreak.manage", None),
    ("outbreaks.settings_index", "Settings", "setting.view", "cases"),
    ("people.search", "Find a person", "person.search", "cases"),
    ("escalation.index", "Escalations", "escalation.view", "follow-up"),
    ("support.queue", "Support needs", "support.manage", "follow-up"),
    ("telephony.unmatched", "Unmatched replies", "escalation.view", "follow-up"),
    ("supervision.alerts", "Alerts", "supervise", "follow-up"),
    ("supervision.non_responders", "Missed check-ins", "supervise", "follow-up"),
    ("outbreaks.mentions", "Places to match", "setting.manage", "follow-up"),
    ("reports.kpis", "How we are doing", "reports.view", "reports"),
    ("simulation.planner", "Capacity planner", "reports.view", "reports"),
    ("audit.index", "Audit log", "audit.view", "admin"),
    ("auth.users", "Users", "user.manage", "admin"),
    ("policies.index", "Isolation policy", "policy.manage", "admin"),
    ("telephony.templates", "Text messages", "template.manage", "admin"),
    ("letters.templates", "Letters", "template.manage", "admin"),
]
NAV_GROUPS = {
    "follow-up": ("Follow-up", "People the calls did not reach, help to isolate, texts from unknown numbers, "
                               "alerts, missed check-ins and places to match."),
    "reports": ("Reports", "How the service is doing, and how many tracers it needs."),
    "admin": ("Administration", "Staff accounts, the isolation policy, the texts and letters people are sent, and "
                                "who did what."),
    "cases": ("Cases", ""),
}
NAV_DESCRIPTIONS = {
    "outbreaks.settings_index": "Care homes, schools, workplaces: the register, and who attended them.",
    "outbreaks.mentions": "Places people named in their own words, to match to the settings register.",
    "people.search": "Anyone on record, cases and contacts, by name, date of birth, phone or postcode.",
    "escalation.index": "People the calls did not reach: doorstep visits and their outcomes.",
    "escalation.visits": "Every field officer's round of doorstep visits.",
    "support.queue": "Help people asked for so that they can isolate: food, medicine, payments.",
    "telephony.unmatched": "Texts from numbers the service does not know, to match to a person.",
    "supervision.alerts": "What people told us by text or online that a supervisor should act on now.",
    "supervision.non_responders": "People isolating who did not answer their latest check-in text in 24 hours.",
    "reports.kpis": "Reach and speed, by day, with charts and tables; exports.",
    "simulation.planner": "How many tracers a number of cases needs, simulated on the real rules.",
    "audit.index": "Who saw or changed what, and when.",
    "auth.users": "Staff accounts, roles and sign-in.",
    "policies.index": "How long cases isolate and contacts quarantine.",
    "telephony.templates": "The wording of each text message.",
    "letters.templates": "The wording of the isolation note, the quarantine letter and the outbreak advice letter.",
}


def nav_group_links(group: str) -> list[dict]:
    """The pages of one navigation group this user may open (for the group's page)."""
    from flask import url_for

    links = [{"href": url_for(ep), "text": text, "description": NAV_DESCRIPTIONS.get(ep, "")}
             for ep, text, perm, g in NAV_ITEMS if g == group and can(perm)]
    if group == "follow-up" and can("escalation.view"):
        links.insert(1, {"href": url_for("escalation.visits"), "text": "Doorstep visits",
                         "description": NAV_DESCRIPTIONS["escalation.visits"]})
    return links


def _navigation() -> list[dict]:
    from flask import g, url_for

    if g.get("db_unavailable") or not current_user.is_authenticated:
        return []
    endpoint = request.endpoint or ""
    mine = [(ep, text, group) for ep, text, perm, group in NAV_ITEMS if can(perm)]
    sizes: dict[str, int] = {}
    for _ep, _text, group in mine:
        if group:
            sizes[group] = sizes.get(group, 0) + 1

    def grouped(group) -> bool:
        return bool(group) and sizes[group] > 1 and group != "cases"

    nav_endpoints = {ep for ep, _t, _g in mine}
    # A feature whose pages are split between a top-level link and a group (supervision: the dashboard, and
    # alerts under Follow-up): its other pages belong to the top-level link, never to the group.
    top_level = {ep.split(".")[0] for ep, _t, group in mine if not grouped(group)}

    def is_active(ep: str, in_group: bool = False) -> bool:
        if endpoint in nav_endpoints:  # on a page the navigation links to: that link (and its group) only
            return endpoint == ep
        if in_group and ep.split(".")[0] in top_level:
            return False
        return endpoint.split(".")[0] == ep.split(".")[0] and (ep != "auth.users" or endpoint.startswith("auth.user"))

    nav, placed = [], set()
    for ep, text, group in mine:
        if grouped(group):
            if group in placed:
                continue
            placed.add(group)
            members = [e for e, _t, gr in mine if gr == group]
            nav.append({"href": url_for("about.more", group=group), "text": NAV_GROUPS[group][0],
                        "active": (endpoint == "about.more" and (request.view_args or {}).get("group") == group)
                        or any(is_active(e, in_group=True) for e in members)})
        elif group == "cases" and any(e == "cases.index" for e, _t, _g in mine):
            continue  # Find a person is linked from the Cases page
        else:
            nav.append({"href": url_for(ep), "text": text, "active": is_active(ep)})
    if getattr(current_user, "is_field_officer", False):
        nav.insert(0, {"href": url_for("escalation.visits"), "text": "My visits",
                       "active": endpoint == "escalation.visits"})
    return nav
