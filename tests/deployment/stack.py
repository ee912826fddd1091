"""A production stack on loopback, for the deployment tests and bench/multi_server.py: Debian's nginx with the
shipped site (deploy/nginx-tts.conf, rewritten only for ports, certificate and paths), in front of one or more
gunicorn app servers (the shipped gunicorn.conf.py) and, if asked, `flask worker` processes, all with
TTS_CONFIG=production against one database."""
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx-tts.conf"
BIN = Path(sys.executable).parent
SECRET = "deployment-test-secret-0123456789abcdef0123456789"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def render_site(app_ports: list[int], https_port: int, http_port: int, certificate: Path, key: Path) -> str:
    """The shipped site with this machine's ports, certificate and checkout: nothing else changed."""
    site = SITE.read_text()
    upstream = "".join(f"    server 127.0.0.1:{port} max_fails=3 fail_timeout=10s;\n" for port in app_ports)
    site = re.sub(r"^    server 127\.0\.0\.1:8001 .*\n", upstream, site, flags=re.MULTILINE)
    site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port};").replace("listen [::]:80;\n", "")
    site = site.replace("listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl").replace("    listen [::]:443 ssl http2;\n", "")
    site = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {certificate};", site)
    site = re.sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {key};", site)
    return site.replace("/opt/tts/app/", f"{ROOT}/")


@dataclass
class Stack:
    workdir: Path
    database_url: str
    app_servers: int = 1
    workers: int = 0
    web_processes: int = 2
    extra_env: dict = field(default_factory=dict)
    https_port: int = 0
    app_ports: list[int] = field(default_factory=list)
    processes: list[subprocess.Popen] = field(default_factory=list)
    logs: list = field(default_factory=list)

    def _log(self, name: str):
        handle = open(self.workdir / name, "wb")  # closed by stop()
        self.logs.append(handle)
        return handle

    # What people's browsers and Twilio use: nginx listens on a loopback port here, and the client names the
    # public host, as a browser does on port 443.
    public_url = "https://tts.council.example"

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TTS_", "TWILIO_", "PROMETHEUS_"))}
        env.update(TTS_CONFIG="production", SECRET_KEY=SECRET, DATABASE_URL=self.database_url, TTS_PROXY_COUNT="1",
                   TTS_SIMULATED_TWILIO="1", TTS_PUBLIC_URL=self.public_url, TTS_WEB_WORKERS=str(self.web_processes),
                   TTS_WEB_THREADS="2", TTS_LOG_FORMAT="json", PYTHONPATH=str(ROOT), **self.extra_env)
        return env

    def start(self) -> "Stack":
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.https_port, http_port = free_port(), free_port()
        self.app_ports = [free_port() for _ in range(self.app_servers)]
        env = self.env()
        for n, port in enumerate(self.app_ports):
            log = self._log(f"app{n}.log")
            self.processes.append(subprocess.Popen(
                [str(BIN / "gunicorn"), "--config", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}",
                 "wsgi:app"], cwd=ROOT, env={**env, "PROMETHEUS_MULTIPROC_DIR": str(self.workdir / f"metrics{n}")},
                stdout=log, stderr=subprocess.STDOUT))
        for n in range(self.workers):
            log = self._log(f"worker{n}.log")
            self.processes.append(subprocess.Popen([str(BIN / "flask"), "--app", "wsgi", "worker"], cwd=ROOT,
                                                   env={**env, "TTS_WORKER_INTERVAL_SECONDS": "0.5"},
                                                   stdout=log, stderr=subprocess.STDOUT))
        certificate, key = self.workdir / "tls.crt", self.workdir / "tls.key"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                        "/CN=tts.council.example", "-keyout", str(key), "-out", str(certificate)],
                       check=True, capture_output=True)
        temp = self.workdir / "nginx"
        temp.mkdir(exist_ok=True)
        conf = self.workdir / "nginx.conf"
        conf.write_text(
            ("user root root;\n" if os.geteuid() == 0 else "")
            + f"worker_processes 1;\npid {temp}/nginx.pid;\nerror_log {self.workdir}/nginx-error.log;\n"
            "events { worker_connections 512; }\nhttp {\n  include /etc/nginx/mime.types;\n"
            f"  access_log {self.workdir}/nginx-access.log;\n"
            + "".join(f"  {kind}_temp_path {temp}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
            + render_site(self.app_ports, self.https_port, http_port, certificate, key) + "\n}\n")
        check = subprocess.run([nginx_binary(), "-t", "-c", str(conf), "-p", str(temp)], capture_output=True, text=True)
        if check.returncode:
            raise RuntimeError(f"nginx refused the shipped site: {check.stderr}")
        self.processes.append(subprocess.Popen([nginx_binary(), "-c", str(conf), "-p", str(temp), "-g", "daemon off;"],
                                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for port in self.app_ports:
            self._wait(lambda p=port: direct(p, "/healthz")[0] == 200, f"app server on {port}")
        self._wait(lambda: Client(self).get("/healthz")[0] == 200, "nginx")
        return self

    def _wait(self, ready, what: str, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"a process of the stack exited ({process.args[0]}): see {self.workdir}")
            try:
                if ready():
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{what} did not start in {seconds} s: see {self.workdir}")

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for handle in self.logs:
            handle.close()

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def direct(port: int, path: str) -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


class Client:
    """A browser's part, over HTTPS through nginx: cookies, the forms' CSRF tokens, a client address of its own
    (another loopback address, so the audit log shows whose address it recorded)."""

    def __init__(self, stack: Stack, source: str = "127.0.0.1", headers: dict | None = None):
        self.stack, self.source, self.cookies, self.headers = stack, source, {}, headers or {}
        self.context = ssl.create_default_context()
        self.context.check_hostname = False
        self.context.verify_mode = ssl.CERT_NONE

    def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None,
                json_body=None) -> tuple[int, dict, bytes]:
        """One request on a connection of its own (so nginx may send each to another app server)."""
        body = urllib.parse.urlencode(form) if form is not None else None
        sent = {"Host": "tts.council.example", **self.headers, **(headers or {})}
        if json_body is not None:
            body = json.dumps(json_body)
            sent["Content-Type"] = "application/json"
        elif body is not None:
            sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
            sent.setdefault("Referer", f"{self.stack.public_url}{path}")  # as a browser sends (CSRF over HTTPS)
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection = http.client.HTTPSConnection("127.0.0.1", self.stack.https_port, timeout=60,
                                                 context=self.context, source_address=(self.source, 0))
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, form: dict, **kwargs):
        return self.request("POST", path, form=form, **kwargs)

    def csrf(self, path: str) -> str:
        status, _, page = self.get(path)
        assert status == 200, (path, status)
        return re.search(rb'<meta name="csrf-token" content="([^"]+)"', page).group(1).decode()

    def sign_in(self, email: str, password: str, totp_secret: str) -> None:
        import pyotp

        status, headers, _ = self.post("/login", {"email": email, "password": password, "csrf_token": self.csrf("/login")})
        assert status == 302 and headers["location"].endswith("/login/code"), (status, headers)
        token = self.csrf("/login/code")
        for ahead in (0, 1):
            status, headers, _ = self.post("/login/code", {"code": pyotp.TOTP(totp_secret).at(time.time() + 30 * ahead),
                                                           "csrf_token": token})
            if status == 302:
                return
        raise AssertionError(f"sign-in through nginx failed: {status}")
