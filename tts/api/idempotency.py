"""Idempotency-Key for the API's creating operations: the same key from the same token within 24 hours gets
the first answer again and writes nothing new, even when the first answer was lost on its way (a dropped
connection, a proxy's time-out, a 503 after the commit). The stored answer is written in the transaction of
the change itself (`answer`), so it exists exactly when the change does; two requests racing with one key
both try to write it, the unique key lets one through (the other waits on it, on PostgreSQL), and the other
is rolled back and gets the winner's answer."""
import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta
from functools import wraps

from flask import Response, g, jsonify, request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from tts.api.models import IdempotentRequest
from tts.clock import utcnow
from tts.extensions import db
from tts.jobs import job
from tts.transaction import undo

HEADER = "Idempotency-Key"
KEEP = timedelta(hours=24)
_KEY = re.compile(r"[\x21-\x7e]{1,255}")  # printable ASCII, no spaces: a UUID is the usual choice


def _fingerprint() -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    if request.files:
        for name, upload in sorted(request.files.items(multi=True), key=lambda f: f[0]):
            upload.stream.seek(0)
            digest.update(f"{name}:{upload.filename}\n".encode())
            digest.update(upload.stream.read())
            upload.stream.seek(0)
    else:
        digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _stored(token_id: int, key: str) -> IdempotentRequest | None:
    return db.session.scalar(select(IdempotentRequest).where(
        IdempotentRequest.token_id == token_id, IdempotentRequest.key == key,
        IdempotentRequest.created_at > utcnow() - KEEP))


def _replay(stored: IdempotentRequest, fingerprint: str) -> Response:
    if stored.fingerprint != fingerprint:
        response = jsonify({"errors": {HEADER: ["This key was already used for a different request: use a new "
                                                "key for each new request, and the same key only to retry one"]}})
        response.status_code = 422
        return response
    response = Response(stored.response_body, status=stored.status_code, mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    if stored.location:
        response.headers["Location"] = stored.location
    return response


def idempotent(view: Callable) -> Callable:
    """For a creating API operation that ends with `answer`: honours the Idempotency-Key header."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not _KEY.fullmatch(key):
            response = jsonify({"errors": {HEADER: ["Use 1 to 255 printable characters with no spaces, "
                                                    "like a UUID"]}})
            return response, 422
        token_id = g.api_token.id
        fingerprint = _fingerprint()
        stored = _stored(token_id, key)
        if stored is not None:
            return _replay(stored, fingerprint)
        g.idempotency = (token_id, key, fingerprint)
        try:
            return view(*args, **kwargs)
        except IntegrityError as error:
            if "uq_idempotent_requests_token_key" not in str(error.orig) and "idempotent_requests" not in str(error.orig):
                raise
            undo()  # a request with the same key committed first: its change stands, not ours
            stored = _stored(token_id, key)
            if stored is None:
                raise
            return _replay(stored, fingerprint)

    wrapped.idempotent = True  # the generated API description offers the header (tts/api/openapi.py)
    return wrapped


def answer(body, status: int, location: str | None = None) -> Response:
    """The answer to a creating operation; when an Idempotency-Key came, also written (and flushed, so a
    request racing with the same key meets the unique key here) to be replayed. The request's boundary
    commits it with the change."""
    text = json.dumps(body, default=str)
    marker = g.get("idempotency")
    if marker is not None:
        token_id, key, fingerprint = marker
        # A stale row (older than 24 hours) for this key stops counting: it makes way for the new answer.
        db.session.execute(delete(IdempotentRequest).where(IdempotentRequest.token_id == token_id,
                                                           IdempotentRequest.key == key,
                                                           IdempotentRequest.created_at <= utcnow() - KEEP))
        db.session.add(IdempotentRequest(token_id=token_id, key=key, fingerprint=fingerprint, status_code=status,
                                         response_body=text, location=location))
        db.session.flush()
    response = Response(text, status=status, mimetype="application/json")
    if location:
        response.headers["Location"] = location
    return response


@job("idempotency_pruned", lane="slow")
def prune_idempotent_requests() -> int:
    """The worker deletes answers older than 24 hours (they may name a person)."""
    return db.session.execute(delete(IdempotentRequest).where(IdempotentRequest.created_at <= utcnow() - KEEP)
                              ).rowcount or 0
