"""Roles, the permissions each grants, and the one way routes check them."""
from collections.abc import Callable
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
            "support.create"}

PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.TRACER: frozenset(_TRACING),
    Role.SUPERVISOR: frozenset(_TRACING | {"case.view_all", "audit.view", "escalation.view", "supervise",
                                          "support.manage", "reports.view", "reports.export", "import.run"}),
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


def require(*perms: str) -> Callable:
    """Route decorator: signed in, and holding every permission named (none = any signed-in user)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not all(has_permission(current_user, p) for p in perms):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
