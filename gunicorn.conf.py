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

# Metrics (/metrics, tts/ops/metrics.py): each worker process writes its counters to files in this directory
# and a scrape adds them up, whichever process answers it. It must be set before the app is imported, and
# emptied when gunicorn starts, so counts from an earlier run are not added in. systemd's RuntimeDirectory
# (deploy/tts-web.service) gives /run/tts-web; elsewhere a private temporary directory is made.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    import tempfile

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="tts-metrics-")


def on_starting(server):
    from pathlib import Path

    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


# gunicorn's own access log is off: the app writes one JSON line a request with its request id (tts/ops/logs.py).
accesslog = None
