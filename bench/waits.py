"""What the app's database connections are doing, sampled: run it beside a load test.

    .venv/bin/python bench/waits.py --database tts_np_b [--seconds 20] [--every 0.05]

Every `--every` seconds it reads pg_stat_activity for the client connections to that database and, at the
end, prints how many connections were on average in each (wait event type, wait event, state): e.g.
"Lock advisory active" (waiting for the audit chain's lock), "Client ClientRead idle in transaction"
(waiting for the app to send its next statement). Connects as postgres to 127.0.0.1 (--dsn to change).
"""
import argparse
import collections
import time

import psycopg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--every", type=float, default=0.05)
    parser.add_argument("--dsn", default="host=127.0.0.1 user=postgres")
    args = parser.parse_args()
    counts: collections.Counter = collections.Counter()
    samples = 0
    with psycopg.connect(f"{args.dsn} dbname={args.database}", autocommit=True) as conn:
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            for row in conn.execute(
                    "SELECT coalesce(wait_event_type, '-'), coalesce(wait_event, '-'), state FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
                    (args.database,)):
                counts[row] += 1
            samples += 1
            time.sleep(args.every)
    print(f"{'connections':>11}  wait type / wait event / state  ({samples} samples)")
    for key, n in counts.most_common():
        print(f"{n / samples:11.2f}  {' / '.join(key)}")


if __name__ == "__main__":
    main()
