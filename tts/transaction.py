"""Where a transaction begins and ends. Services only flush; these boundaries commit.

- A web or API request (`App`): everything it wrote is committed once, when it has answered (its
  before-request checks included); an exception instead rolls everything back, in one place
  (`App.handle_user_exception`), before its error handler answers: a `DomainError`, an `abort(403)`, a
  database error. A commit that fails is handled like the view's own error (a lost connection: the 503 page).
- A view that refuses by answering itself (a form shown again with its errors) calls `undo()`: what the
  service wrote does not stand; what the view records after that (a failed sign-in's count) does.
- A request that must put something on record before it goes on (the call is recorded before Twilio
  rings the tracer) runs its steps with `run_steps`, each step's reason written where it yields.
- A CLI command (`command_boundary`): committed when it returns, rolled back if it fails.
- A background job: tts/jobs.py, the job runner.
"""
import functools
import inspect
import logging
from collections.abc import Callable, Generator
from typing import Any

from flask import Flask
from sqlalchemy.exc import DBAPIError

from tts.extensions import db

log = logging.getLogger(__name__)


class App(Flask):
    """The Flask app with the request boundary: one commit when the request has answered."""

    def preprocess_request(self):
        answered = super().preprocess_request()
        # A before-request check answered by itself (a bad token, sign in first): what it wrote stands too.
        return None if answered is None else self._committed(answered)

    def dispatch_request(self):
        return self._committed(super().dispatch_request())

    def _committed(self, answer):
        response = self.make_response(answer)
        db.session.commit()  # the request's boundary: everything it wrote, at once
        return response

    def handle_user_exception(self, e):
        _rollback()  # the one place an exception's writes are undone, before its error handler answers
        return super().handle_user_exception(e)


def _rollback() -> None:
    from tts.errors import is_outage

    try:
        db.session.rollback()
    except DBAPIError as error:
        if not is_outage(error):
            raise
        # The connection is gone: nothing was committed, and the outage handler discards the session.


def undo() -> None:
    """A view refused a service's work and answers itself (its form again, a message): none of it stands."""
    db.session.rollback()


def run_steps(steps: Generator[str, None, Any]) -> Any:
    """Run work that must be on record at certain points before it goes on (before a network call, say).
    The work yields at each such point, the reason being what it yields, and it is committed there; what
    it returns is returned. Used by the job runner and by the few requests that call out to Twilio."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value
        db.session.commit()  # a step of the caller's boundary: the reason is where the work yielded


def commit_step(reason: str, *, keep_loaded: bool = False) -> None:
    """Commit what a request has written so far and go on in a new transaction: for a write that must
    stand whatever happens next (a recorded outcome, before the next call is claimed). `reason` says why,
    where it is called. `keep_loaded`: do not expire what is loaded (the request reads it again otherwise)."""
    session = db.session()
    expire = session.expire_on_commit
    session.expire_on_commit = not keep_loaded
    try:
        session.commit()  # a step of the request's boundary: see `reason` at the caller
    finally:
        session.expire_on_commit = expire


def command_boundary(command: Callable) -> Callable:
    """A CLI command's boundary: what it wrote is committed when it returns, rolled back if it fails
    (a `SystemExit` with a non-zero code included)."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        try:
            result = command(*args, **kwargs)
        except SystemExit as exit_:
            if exit_.code not in (None, 0):
                db.session.rollback()
            else:
                db.session.commit()
            raise
        except BaseException:
            db.session.rollback()
            raise
        if inspect.isgenerator(result):
            result = run_steps(result)
        db.session.commit()  # the command's boundary
        return result

    return run
