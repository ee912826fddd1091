"""Server time of the pages staff use all day, with a benchmark data set loaded.

    .venv/bin/python bench/page_timings.py --database-url URL [--requests 200]

Each page is requested many times in-process (the Flask app against PostgreSQL, no network or browser),
signed in as the role that uses it; reported are p50, p95 and p99 in milliseconds, and the number of SQL
statements one request runs. Pages: the call screen, My work, the person page, the supervisor's
dashboard (and its refreshing panel, and the queue list), the KPI page, the audit log, the Cases list
(a supervisor's, one searched by part of a surname, and a tracer's own), the alerts and missed check-ins
lists, a case's self-service pages (the start page, and check your answers once verified), and with
bench/outbreaks.py loaded, the largest outbreak's page, the outbreaks list and the settings register.
"""
import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import BENCH_PASSWORD, bench_totp_secret  # noqa: E402


def sign_in(client, email: str) -> None:
    import pyotp

    r = client.post("/login", data={"email": email, "password": BENCH_PASSWORD})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    r = client.post("/login/code", data={"code": pyotp.TOTP(bench_totp_secret(email)).now()})
    if r.status_code != 302:
        # A code is accepted once: a second sign-in within the same 30 s (the previous benchmark step, a
        # moment ago) must wait for the next one.
        time.sleep(30 - time.time() % 30 + 1)
        r = client.post("/login/code", data={"code": pyotp.TOTP(bench_totp_secret(email)).now()})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(round(q * (len(values) - 1))))] * 1000, 1)


def measure(app, client, url: str, n: int) -> dict:
    from sqlalchemy import event

    from tts.extensions import db

    with app.app_context():
        engine = db.engine
    statements = []

    def count(*_args):
        statements.append(1)

    start = time.perf_counter()
    client.get(url)  # the first request: templates compiled, connections opened, caches empty
    first = time.perf_counter() - start
    event.listen(engine, "before_cursor_execute", count)
    client.get(url)
    event.remove(engine, "before_cursor_execute", count)
    times = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, (url, response.status_code)
    return {"first_ms": round(first * 1000, 1), "p50": percentile(times, 0.5), "p95": percentile(times, 0.95), "p99": percentile(times, 0.99),
            "queries": len(statements), "requests": n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--only", default="", help="measure only the pages whose label contains this text")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "page_timings.json"))
    args = parser.parse_args()

    from sqlalchemy import func, select

    from tts import create_app
    from tts.auth.models import User
    from tts.callqueue.services import claim_next
    from tts.extensions import db
    from tts.people.models import Person

    app = create_app("development", SQLALCHEMY_DATABASE_URI=args.database_url, TTS_CALLING_HOURS="00:00-23:59",
                     WTF_CSRF_ENABLED=False)
    tracer_email = "bench.tracer199@bench.example"
    with app.app_context():
        tracer = db.session.scalar(select(User).where(User.email == tracer_email))
        claim = claim_next(tracer)
        db.session.commit()
        item_id, person_id = claim.item.id, claim.item.person_id
        sizes = {"people": db.session.scalar(select(func.count()).select_from(Person))}
    import gc

    gc.collect()
    gc.freeze()  # as wsgi.py does for the deployed app
    tracer_client, supervisor_client, analyst_client, admin_client, search_client, tracer_search_client = (
        app.test_client() for _ in range(6))
    sign_in(tracer_client, tracer_email)
    sign_in(supervisor_client, "bench.supervisor@bench.example")
    sign_in(search_client, "bench.supervisor@bench.example")
    sign_in(tracer_search_client, tracer_email)
    # The Cases list keeps a search in the session (names never in URLs): search once, then read the list.
    for client in (search_client, tracer_search_client):
        assert client.post("/cases/", data={"q": "kestr"}).status_code == 302
    sign_in(analyst_client, "bench.reporting@bench.example")
    sign_in(admin_client, "bench.admin@bench.example")
    pages = [
        ("call screen", tracer_client, f"/queue/items/{item_id}"),
        ("My work", tracer_client, "/queue/"),
        ("person page", tracer_client, f"/people/{person_id}"),
        ("supervisor dashboard", supervisor_client, "/supervise/"),
        ("dashboard panel (refreshes)", supervisor_client, "/supervise/panel"),
        ("supervisor queue list", supervisor_client, "/supervise/queue"),
        ("KPI page", analyst_client, "/reports/"),
        ("audit log", admin_client, "/admin/audit/"),
        ("Cases list (supervisor)", supervisor_client, "/cases/"),
        ("Cases list, part of a surname", search_client, "/cases/"),
        ("Cases list, last page of a search", search_client, "/cases/?page=20"),
        ("Cases list (tracer's own)", tracer_client, "/cases/"),
        ("Cases list, a tracer's search by part of a surname", tracer_search_client, "/cases/"),
    ]
    # Self-service: a case's link, verified in a browser of its own (no staff account), then its last page.
    with app.app_context():
        from tts.cases.models import Case
        from tts.selfservice.links import issue_link

        case = db.session.scalar(select(Case).where(Case.status == "open").order_by(Case.id.desc()).limit(1))
        _, token = issue_link(None, case.person, case=case)
        dob = case.person.date_of_birth
        db.session.commit()
    public_client = app.test_client()
    assert public_client.post(f"/s/{token}/verify", data={
        "date_of_birth-day": dob.day, "date_of_birth-month": dob.month, "date_of_birth-year": dob.year}).status_code == 302
    pages += [
        ("alerts (supervisor)", supervisor_client, "/supervise/alerts"),
        ("missed check-ins (supervisor)", supervisor_client, "/supervise/non-responders"),
        ("self-service: start page", app.test_client(), f"/s/{token}"),
        ("self-service: check your answers", public_client, f"/s/{token}/check"),
    ]
    # Outbreaks (bench/outbreaks.py loads them): the largest outbreak's page, the list, the register searched.
    with app.app_context():
        from tts.outbreaks.models import OutbreakCase

        largest = db.session.scalar(select(OutbreakCase.outbreak_id).group_by(OutbreakCase.outbreak_id)
                                    .order_by(func.count().desc()).limit(1))
    if largest is not None:
        pages += [
            ("outbreak page (the largest)", supervisor_client, f"/outbreaks/{largest}"),
            ("outbreaks list", supervisor_client, "/outbreaks/"),
            ("settings register, searched", tracer_client, "/settings/?q=care+home+12"),
        ]
    pages = [p for p in pages if args.only in p[0]]
    results = {"data": sizes, "pages": {}}
    for label, client, url in pages:
        results["pages"][label] = {"url": url, **measure(app, client, url, args.requests)}
        print(f"{label:<30} {json.dumps(results['pages'][label])}", flush=True)
    if args.only:
        return  # a partial run: the saved results stay those of the last full one
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
