"""The shipped deployment files agree with the code: the environment template lists every setting, the units
run the shipped commands with hardening, and nginx's upload limit is the app's."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def _settings_read(path: Path) -> set[str]:
    return set(re.findall(r'environ\.get\("([A-Z][A-Z0-9_]+)"', path.read_text()))


def test_the_environment_template_lists_every_setting():
    template = (DEPLOY / "tts.env.example").read_text()
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", template, re.MULTILINE))
    wanted = (_settings_read(ROOT / "config.py") | _settings_read(ROOT / "gunicorn.conf.py")) - {"PROMETHEUS_MULTIPROC_DIR"}
    assert sorted(wanted - listed) == [], "add these to deploy/tts.env.example (and docs/configuration.md)"
    assert not re.search(r"^#? ?[A-Z_]+=[^\n#]*[ \t]#", template, re.MULTILINE), "systemd reads no comment after a value"


def test_the_units_run_the_shipped_commands_hardened():
    web, worker = (DEPLOY / "tts-web.service").read_text(), (DEPLOY / "tts-worker.service").read_text()
    assert "gunicorn --config /opt/tts/app/gunicorn.conf.py" in web and "wsgi:app" in web
    assert "flask --app wsgi worker" in worker
    for unit in (web, worker):
        for option in ("Restart=on-failure", "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes",
                       "EnvironmentFile=/etc/tts/tts.env", "User=tts"):
            assert option in unit
    assert "PROMETHEUS_MULTIPROC_DIR=/run/tts-web" in web and "RuntimeDirectory=tts-web" in web


def test_nginx_takes_the_uploads_the_app_takes():
    from config import Config

    site = (DEPLOY / "nginx-tts.conf").read_text()
    limit = int(re.search(r"client_max_body_size (\d+)m;", site).group(1))
    assert limit * 1024 * 1024 == Config.MAX_CONTENT_LENGTH
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site
