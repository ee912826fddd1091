"""gunicorn.conf.py: the production web layout, overridable from the environment."""
import multiprocessing
import runpy
from pathlib import Path

CONF = str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py")


def test_defaults_are_two_threaded_processes_two_a_core(monkeypatch):
    monkeypatch.delenv("TTS_WEB_WORKERS", raising=False)
    monkeypatch.delenv("TTS_WEB_THREADS", raising=False)
    conf = runpy.run_path(CONF)
    assert conf["worker_class"] == "gthread"
    assert conf["workers"] == 2 * multiprocessing.cpu_count()
    assert conf["threads"] == 2
    assert conf["keepalive"] > 2  # the dashboard refreshes every 2 s in the benchmark


def test_environment_overrides_the_layout(monkeypatch):
    monkeypatch.setenv("TTS_WEB_WORKERS", "3")
    monkeypatch.setenv("TTS_WEB_THREADS", "5")
    conf = runpy.run_path(CONF)
    assert (conf["workers"], conf["threads"]) == (3, 5)
