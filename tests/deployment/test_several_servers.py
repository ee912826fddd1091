"""Several servers against one PostgreSQL: two app servers behind the shipped nginx and two workers, as in
docs/deploy.md's "Several servers". 16 simulated tracers spread over both servers claim and record outcomes:
nobody is handed an item someone else holds, no text goes out twice, sign-in throttling counts failures on
both servers together, and the audit events from every process end up in one unbroken chain."""
import json
import threading
import time
from collections import Counter, defaultdict

import pytest
from sqlalchemy import create_engine, func, select

from tests.conftest import make_app
from tests.deployment.stack import Client, Stack, direct, nginx_binary
from tests.factories import UserFactory, person_data
from tts.audit.chain import verify
from tts.audit.models import AuditEvent
from tts.callqueue.models import CallAttempt
from tts.cases.services import create_case
from tts.clock import today
from tts.extensions import db
from tts.telephony.models import Message

pytestmark = [pytest.mark.no_rollback, pytest.mark.postgres_only,
              pytest.mark.skipif(nginx_binary() is None, reason="nginx is not installed")]

TRACERS, CASES = 16, 160


@pytest.fixture(scope="module")
def council(fresh_database_url, tmp_path_factory):
    url = fresh_database_url("servers")
    app = make_app(url)
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("several servers coordinate through PostgreSQL")
        from tts.auth.services import hash_password, issue_api_token

        tokens = []
        for n in range(TRACERS):
            tracer = UserFactory(role="tracer", email=f"tracer{n}.servers@tts.example")
            db.session.flush()
            tokens.append(issue_api_token(None, tracer)[1])
        victim = UserFactory(role="tracer", email="throttled.servers@tts.example")
        victim.password_hash = hash_password("the right long password")
        for n in range(CASES):
            create_case(None, person_data(n, last_name=f"Server{n}", address=f"{n} Scale Street"),
                        test_date=today(), symptom_onset_date=None)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    workdir = tmp_path_factory.mktemp("servers")
    sends = workdir / "gateway-sends.txt"
    with Stack(workdir, url, app_servers=2, workers=2, extra_env={
            "TTS_CALLING_HOURS": "00:00-23:59:59", "TTS_SIMULATED_GATEWAY_RECORD": str(sends),
            "TTS_SIMULATED_GATEWAY_LATENCY_MS": "20"}) as stack:
        stack.tokens, stack.sends = tokens, sends
        yield stack


def _tracer(stack, token: str, number: int, holds: list, errors: Counter, stop: float) -> None:
    client = Client(stack, headers={"Authorization": f"Bearer {token}"})
    while time.monotonic() < stop:
        started = time.monotonic()
        status, _, body = client.request("POST", "/api/v1/queue/claim", json_body={})
        if status == 204:
            return  # the queue is empty
        if status != 200:
            errors[f"claim {status}"] += 1
            continue
        claimed = json.loads(body)
        for item in [claimed["work_item"], *claimed["also_claimed"]]:
            outcome = "reached" if (item["id"] + number) % 3 else "no_answer"
            status, _, _ = client.request("POST", f"/api/v1/work-items/{item['id']}/attempts", json_body={
                "outcome": outcome, "claim_token": item["claim_token"], "notes": "Several-servers test"})
            if status != 201:
                errors[f"attempt {status}"] += 1
            holds.append((item["id"], number, started, time.monotonic()))


def _overlapping(holds: list) -> int:
    by_item = defaultdict(list)
    for item, tracer, start, end in holds:
        by_item[item].append((start, end, tracer))
    return sum(1 for spans in by_item.values() for (s1, e1, t1), (s2, e2, t2) in zip(sorted(spans), sorted(spans)[1:])
               if t1 != t2 and s2 < e1)


def test_sixteen_tracers_on_two_servers_and_two_workers(council):
    holds: list = []
    errors: Counter = Counter()
    stop = time.monotonic() + 90
    threads = [threading.Thread(target=_tracer, args=(council, token, n, holds, errors, stop))
               for n, token in enumerate(council.tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == Counter()
    assert len({item for item, *_ in holds}) >= CASES  # every case's first call was made
    assert _overlapping(holds) == 0
    assert len({tracer for _, tracer, *_ in holds}) == TRACERS  # the work was shared

    engine = create_engine(council.database_url)
    try:
        from sqlalchemy.orm import Session

        deadline = time.monotonic() + 60  # the two workers send the texts the outcomes queued
        with Session(engine) as session:
            while time.monotonic() < deadline:
                waiting = session.scalar(select(func.count()).select_from(Message).where(  # not given to Twilio
                    Message.direction == "outbound", Message.twilio_sid.is_(None),
                    Message.status.in_(("queued", "sending")), Message.next_attempt_at <= func.now()))
                unsealed = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.hash.is_(None)))
                if not waiting and not unsealed:
                    break
                session.rollback()
                time.sleep(0.5)
            sent = session.scalar(select(func.count()).select_from(Message).where(Message.twilio_sid.is_not(None)))
            attempts = session.scalar(select(func.count()).select_from(CallAttempt))
            verdict = verify(session)
        lines = council.sends.read_text().splitlines()
        texts = Counter(line.split()[1] for line in lines)
        assert sent > CASES / 2 and len(lines) == sent  # every text the gateway took is one message's
        assert [text for text, times in texts.items() if times > 1] == []  # none sent twice
        assert attempts == len(holds)
        assert verdict.ok and verdict.unsealed == 0 and verdict.checked > attempts  # sealed by the workers
    finally:
        engine.dispose()
    beats = [direct(port, "/metrics")[2] for port in council.app_ports]
    assert all(b'tts_worker_lane_last_run_seconds{lane="audit"}' in body for body in beats)


def test_sign_in_throttling_counts_failures_on_both_servers(council):
    client = Client(council, source="127.0.0.3")
    statuses = []
    token = client.csrf("/login")  # one form, sent again and again: nginx hands the posts to each server in turn
    for _ in range(8):
        status, _, _ = client.post("/login", {"email": "throttled.servers@tts.example", "password": "wrong guess",
                                              "csrf_token": token})
        statuses.append(status)
    assert statuses[:5] == [400] * 5 and statuses[5:] == [429] * 3  # TTS_SIGNIN_MAX_FAILURES_ACCOUNT is 5
    status, _, _ = client.post("/login", {"email": "throttled.servers@tts.example",
                                          "password": "the right long password", "csrf_token": client.csrf("/login")})
    assert status == 429  # even the right password waits
    counted = []
    for port in council.app_ports:
        body = direct(port, "/metrics")[2].decode()
        line = [x for x in body.splitlines() if x.startswith('tts_signin_failures_total{stage="password"}')]
        counted.append(float(line[0].split()[-1]) if line else 0.0)
    assert all(c > 0 for c in counted) and sum(counted) == 5, counted  # both servers took failures
