"""gunicorn's settings for TTS, read from the working directory by `gunicorn wsgi:app`.

Several processes with two threads each: the app's requests are mostly Python's CPU with short waits
for PostgreSQL, so more threads per process only queue for the interpreter's lock. On the 2-core
benchmark machine, 4 processes x 2 threads carried 72-75 claim+outcome cycles a second at 50 tracers
against 63-65 with 4 x 8, with a lower p95 (docs/benchmarks.md). Override with TTS_WEB_WORKERS and
TTS_WEB_THREADS, or gunicorn's own command-line options, which win over this file.
"""
import multiprocessing
import os

worker_class = "gthread"
workers = int(os.environ.get("TTS_WEB_WORKERS") or 2 * multiprocessing.cpu_count())
threads = int(os.environ.get("TTS_WEB_THREADS") or 2)
# Longer than the supervisor dashboard's refresh: gunicorn's default (2 s) closes an idle connection just
# as a 2-second refresh reuses it, which the browser or client sees as a connection error.
keepalive = int(os.environ.get("TTS_WEB_KEEPALIVE_SECONDS") or 10)
