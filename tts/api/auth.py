"""Bearer-token authentication and permission checks for the API."""
from collections.abc import Callable
from functools import wraps

from flask import g, jsonify, request

from tts.api import bp
from tts.auth.services import user_for_token
from tts.transaction import commit_step
from tts.extensions import csrf, db
from tts.permissions import Access, declare, has_permission

# Bearer tokens are not sent by browsers on their own, so CSRF does not apply; cookies are ignored here.
csrf.exempt(bp)


PUBLIC_ENDPOINTS = {"api.openapi"}


@bp.before_request
def authenticate_bearer():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    found = user_for_token(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if found is None:
        response = jsonify({"error": "A valid bearer token is required"})
        response.headers["WWW-Authenticate"] = 'Bearer realm="tts"'
        return response, 401
    g.api_user, g.api_token = found
    if g.api_token in db.session.dirty:  # its "last used" time, due once a minute
        commit_step("the token's use counts even if the request is refused, and no lock on its row is held "
                    "while the request runs", keep_loaded=True)
    return None


def api_require(*perms: str, record: str | None = None, note: str = "") -> Callable:
    """API route decorator: the bearer token's user holds every permission named (authentication itself is
    the blueprint's, `authenticate_bearer`). `record`: as for tts.permissions.require."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not all(has_permission(g.api_user, p) for p in perms):
                return jsonify({"error": "Your role may not do this"}), 403
            return view(*args, **kwargs)

        return declare(wrapped, Access("staff", perms, record, note))

    return decorator
