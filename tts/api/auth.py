"""Bearer-token authentication and permission checks for the API."""
from collections.abc import Callable
from functools import wraps

from flask import g, jsonify, request

from tts.api import bp
from tts.auth.services import user_for_token
from tts.errors import ValidationFailed
from tts.extensions import csrf, db
from tts.permissions import has_permission

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
    if g.api_token in db.session.dirty:
        _commit_last_use()
    return None


def _commit_last_use() -> None:
    """The token's "last used" time (due once a minute) is committed at once, before the request's own
    work. It then counts for a request that only reads or is refused, which commits nothing, and no lock on
    the token's row is held while the request runs. Committed without expiring the token and user already
    loaded, so the request does not read them again."""
    session = db.session()
    expire = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def api_require(*perms: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not all(has_permission(g.api_user, p) for p in perms):
                return jsonify({"error": "Your role may not do this"}), 403
            return view(*args, **kwargs)

        return wrapped

    return decorator


@bp.errorhandler(ValidationFailed)
def _validation_failed(exc: ValidationFailed):
    db.session.rollback()
    return jsonify({"errors": exc.errors}), 422
