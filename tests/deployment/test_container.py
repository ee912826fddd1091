"""The container files: the Dockerfile passes hadolint (its wheel carries the binary), and runs what the systemd
units run; compose.yaml starts migrations before the web server and the worker. Images are built by a council's
own pipeline, not here (no container engine on the test machines)."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HADOLINT = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")


@pytest.mark.skipif(not Path(HADOLINT).exists(), reason="hadolint's wheel is for Linux x86-64 only")
def test_the_dockerfile_passes_hadolint():
    result = subprocess.run([HADOLINT, "--failure-threshold", "info", str(ROOT / "Dockerfile")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_installs_the_lock_runs_unprivileged_and_uses_the_shipped_gunicorn_conf():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, re.MULTILINE)) >= 2  # multi-stage
    assert "--require-hashes -r requirements.txt" in dockerfile
    assert re.search(r"^USER 10001", dockerfile, re.MULTILINE)
    assert '"--config", "gunicorn.conf.py"' in dockerfile and "/healthz" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and ".git" in ignored


def test_compose_runs_migrations_first_then_web_and_worker():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) >= {"db", "migrate", "web", "worker"}
    assert services["migrate"]["command"][-2:] == ["db", "upgrade"]
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services[name]["environment"]["TTS_CONFIG"] == "production"
    assert services["worker"]["command"][-1] == "worker"
