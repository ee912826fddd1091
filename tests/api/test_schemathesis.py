"""Schemathesis against the app itself: generated requests to every /api/v1 operation, with a test token.
Fails on any 5xx or any response that breaks the OpenAPI description.

(Driven through each operation's hypothesis strategy: schemathesis's pytest fixture integration does not
run under pytest 9.)"""
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tts.auth.models import User
from tts.auth.services import issue_api_token
from tts.extensions import db

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


# Enough examples to find the classes an outside probe found (mistyped values, ids past the integer range,
# NUL characters and unpaired surrogates, which fail differently on PostgreSQL: the suite's second pass);
# negative mode sends what the schema forbids, which must be a documented 4xx, never a 5xx.
@pytest.mark.parametrize("mode, examples", [(GenerationMode.POSITIVE, 40), (GenerationMode.NEGATIVE, 40)])
def test_every_operation_conforms(app, ctx, make_user, daytime, mode, examples):
    user = make_user("supervisor")
    with ctx():
        _, token = issue_api_token(None, db.session.get(User, user["id"]))
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations:
        @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case):
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

        check()


def test_stateful_sequences_follow_the_links_and_conform(app, ctx, make_user, daytime):
    """Sequences that follow links (the description's, and those schemathesis finds from Location headers: an
    import then its status, an export job then its progress and deletion): every answer conforms, none is a
    5xx."""
    from hypothesis.stateful import run_state_machine_as_test

    user = make_user("supervisor")
    with ctx():
        _, token = issue_api_token(None, db.session.get(User, user["id"]))
        from tests.factories import person_data
        from tts.cases.services import create_case
        from tts.clock import today

        for n in range(3):  # something for the claims to hand out
            create_case(None, person_data(90 + n, address=f"{n} Link Lane"), test_date=today(),
                        symptom_onset_date=None)
    # Settings, outbreaks and letters are left out of the random sequences: a random body rarely makes a valid
    # setting, so they would only dilute the sequences this test is for. Each of their operations is checked
    # above (test_every_operation_conforms), and tests/outbreaks/test_api.py and tests/letters walk their
    # sequences (a setting, a case linked, the outbreak it opens, its actions and status, its letters).
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app).exclude(
        path_regex=r"^/(settings|outbreaks)|/settings$|/letters/")
    Machine = schema.as_state_machine()

    hits: set[tuple[str, int]] = set()

    class WithToken(Machine):
        """Each sequence starts from the same data: its writes are undone when it ends (a savepoint on the
        test's connection), so replaying a sequence meets the same answers (hypothesis needs that)."""

        def setup(self):
            super().setup()
            with app.app_context():
                self._savepoint = db.engines[None].begin_nested()

        def teardown(self):
            self._savepoint.rollback()
            super().teardown()

        def before_call(self, case):
            super().before_call(case)
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}

        def after_call(self, response, case):
            super().after_call(response, case)
            hits.add((case.operation.label, response.status_code))

        def get_call_kwargs(self, case):
            return {"headers": {"Authorization": f"Bearer {token}"}}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs or None)

    run_state_machine_as_test(WithToken, settings=settings(
        max_examples=60, stateful_step_count=10, deadline=None, database=None, derandomize=True,
        suppress_health_check=list(HealthCheck)))
    # The links were followed: records made or handed out in a sequence were then read and acted on.
    # Records made in a sequence were then read through the link to them (an import, an export job).
    assert {("GET /imports/{batch_id}", 200), ("GET /exports/jobs/{job_id}", 200)} & hits, sorted(hits)
    assert ("POST /queue/claim", 200) in hits, sorted(hits)
