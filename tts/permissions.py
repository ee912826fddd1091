"""Roles, the permissions each grants, and the one way routes check them.

Each route's guard declares who may use it (`Access`, set on the view by `require`, `api_require`,
`public` or the Twilio signature check): tts/access_policy.py builds the policy table from these
declarations, and refuses any route that has none.
"""
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import wraps

from flask import abort
from flask_login import current_user, login_required


class Role(StrEnum):
    TRACER = "tracer"
    SUPERVISOR = "supervisor"
    REPORTING = "reporting"
    ADMIN = "admin"


ROLE_LABELS = {
    Role.TRACER: "Tracer",
    Role.SUPERVISOR: "Supervisor",
    Role.REPORTING: "Reporting (council staff)",
    Role.ADMIN: "Administrator",
}

_TRACING = {"case.create", "case.view", "person.view", "person.update", "person.search", "queue.work",
            "support.create", "setting.view", "setting.create"}

PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.TRACER: frozenset(_TRACING),
    Role.SUPERVISOR: frozenset(_TRACING | {"case.view_all", "audit.view", "escalation.view", "supervise",
                                          "support.manage", "reports.view", "reports.export", "import.run",
                                          "setting.manage", "outbreak.manage"}),
    Role.REPORTING: frozenset({"reports.view", "reports.export"}),
    Role.ADMIN: frozenset({"user.manage", "policy.manage", "audit.view", "template.manage", "reports.view",
                           "reports.export", "import.run"}),
}


def has_permission(user, perm: str) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    try:
        role = Role(user.role)
    except ValueError:
        return False
    return perm in PERMISSIONS[role]


def can(perm: str, user=None) -> bool:
    """For templates and views: may this user (default: the signed-in one) do `perm`?"""
    return has_permission(user if user is not None else current_user, perm)


@dataclass(frozen=True)
class Access:
    """Who may use a route, as its guard declares it."""

    kind: str  # "public" (no sign-in), "twilio" (Twilio's signature), "staff" (signed in), "field" (field officers)
    permissions: tuple[str, ...] = ()  # staff: every one of these is needed (none: any signed-in staff)
    record: str | None = None  # the record-level rule for a route taking a record's id (access_policy.RECORD_RULES)
    note: str = ""  # what else the view checks, for the printed table
    also: str | None = None  # field: holders of this permission may use it too


def declare(view: Callable, access: Access) -> Callable:
    view.tts_access = access
    return view


def declared(view: Callable) -> Access | None:
    return getattr(view, "tts_access", None)


def public(view: Callable) -> Callable:
    """Route decorator: no sign-in (the sign-in pages, static files, the API description)."""
    return declare(view, Access("public"))


def require(*perms: str, record: str | None = None, field_officer: bool = False, or_permission: str | None = None,
            note: str = "") -> Callable:
    """Route decorator: signed in, and holding every permission named (none = any signed-in user);
    `field_officer`: only staff marked as field officers (or, `or_permission`, those holding it). `record`
    names the record-level rule the view applies to the record in its path (tts/access_policy.py)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not all(has_permission(current_user, p) for p in perms):
                abort(403)
            if field_officer and not getattr(current_user, "is_field_officer", False) and not (
                    or_permission and has_permission(current_user, or_permission)):
                abort(403)
            return view(*args, **kwargs)

        return declare(wrapped, Access("field" if field_officer else "staff", perms, record, note,
                                       or_permission if field_officer else None))

    return decorator
