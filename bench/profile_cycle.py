"""One tracer's claim+outcome cycle, in process and one request at a time: where a request's time goes.

    .venv/bin/python bench/profile_cycle.py --database-url URL [--cycles 200] [--profile claim|attempt]
                                            [--max-companions 5]

Runs the API v1 requests the load test makes (claim next, then an outcome for each item claimed) through
Flask's test client against a loaded database (bench/generate.py), and prints for each endpoint the
median and p95 of wall time, of this process's CPU time and of the SQL statements it ran. With --profile,
cProfile's top functions (cumulative) for that endpoint. Nothing is rolled back: run it on a bench copy.
"""
import argparse
import cProfile
import io
import pstats
import random
import statistics
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event  # noqa: E402

OUTCOMES = ["reached"] * 4 + ["no_answer"] * 3 + ["voicemail"] * 2 + ["callback_requested"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--profile", choices=["claim", "attempt", "call outcome"])
    parser.add_argument("--max-companions", type=int, default=None)
    parser.add_argument("--sort", default="cumulative", choices=["cumulative", "tottime"],
                        help="order of cProfile's functions: cumulative (the call tree) or tottime (own time)")
    parser.add_argument("--batch", action="store_true",
                        help="a whole call's 'no answer' or 'voicemail' in one request, as the load test does")
    args = parser.parse_args()

    from bench.load_test import api_tokens, stack_env
    import os

    os.environ.update({k: v for k, v in stack_env(args.database_url).items() if k.startswith("TTS_")})
    if args.max_companions is not None:
        os.environ["TTS_MAX_COMPANIONS"] = str(args.max_companions)
    from tts import create_app
    from tts.extensions import db

    token = api_tokens(args.database_url, 1)[0]
    app = create_app("development", SQLALCHEMY_DATABASE_URI=args.database_url)
    counts = {"n": 0}
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a: counts.__setitem__("n", counts["n"] + 1))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    stats: dict[str, list[tuple[float, float, int]]] = defaultdict(list)
    profiler = cProfile.Profile() if args.profile else None
    rng = random.Random(1)

    def timed(name, fn):
        counts["n"] = 0
        profiling = profiler is not None and name == args.profile
        wall, cpu = time.perf_counter(), time.process_time()
        if profiling:
            profiler.enable()
        response = fn()
        if profiling:
            profiler.disable()
        stats[name].append((time.perf_counter() - wall, time.process_time() - cpu, counts["n"]))
        return response

    for _ in range(args.cycles):
        r = timed("claim", lambda: client.post("/api/v1/queue/claim", headers=headers))
        if r.status_code != 200:
            print("claim answered", r.status_code, r.get_data(as_text=True)[:200])
            break
        body = r.get_json()
        items = [body["work_item"], *body["also_claimed"]]
        outcome = rng.choice(OUTCOMES)
        payload = {"outcome": outcome, "notes": "Benchmark call"}
        if outcome == "callback_requested":
            payload["callback_at"] = (datetime.now(UTC) + timedelta(hours=3)).isoformat()
        if args.batch and outcome in ("no_answer", "voicemail") and len(items) > 1:
            call = {**payload, "items": [{"id": i["id"], "claim_token": i["claim_token"]} for i in items]}
            a = timed("call outcome", lambda: client.post("/api/v1/calls/attempts", json=call, headers=headers))
            assert a.status_code == 201, a.get_data(as_text=True)[:300]
            continue
        for item in items:
            a = timed("attempt", lambda: client.post(f"/api/v1/work-items/{item['id']}/attempts",
                                                     json={**payload, "claim_token": item["claim_token"]},
                                                     headers=headers))
            assert a.status_code == 201, a.get_data(as_text=True)[:300]

    print(f"{'endpoint':<14} {'n':>5} {'wall p50/p95 ms':>18} {'cpu p50/p95 ms':>18} {'statements p50/max':>20}")
    for name, rows in stats.items():
        walls = sorted(r[0] * 1000 for r in rows)
        cpus = sorted(r[1] * 1000 for r in rows)
        stmts = [r[2] for r in rows]
        p95 = lambda v: v[min(len(v) - 1, int(0.95 * (len(v) - 1)))]  # noqa: E731
        print(f"{name:<14} {len(rows):>5} {statistics.median(walls):>8.1f} / {p95(walls):>6.1f} "
              f"{statistics.median(cpus):>8.1f} / {p95(cpus):>6.1f} {statistics.median(stmts):>10} / {max(stmts)}")
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(45)
        print(out.getvalue())


if __name__ == "__main__":
    main()
