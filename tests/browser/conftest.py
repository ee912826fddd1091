"""A live server on its own database, and headless Chromium driven by Playwright."""
import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from playwright.sync_api import expect

from tests.conftest import ROOT, make_app
from tts.auth.services import create_user
from tts.clock import utcnow
from tts.extensions import db

SCREENSHOTS = Path(os.environ.get("TTS_SCREENSHOT_DIR", ROOT / "test-artifacts" / "screenshots"))
expect.set_options(timeout=10_000)  # a cold first page on a small CI machine can take a few seconds
CHROMIUM = os.environ.get("TTS_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
BROWSER_PASSWORD = "quiet-lantern-harbour"
BROWSER_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # every browser-test account's authenticator key


@pytest.fixture(scope="session")
def live_app(fresh_database_url):
    # Many tests sign the same account in within one 30-second code window; the guard against reusing a
    # code is proved in tests/auth/test_security.py.
    return make_app(fresh_database_url("browser"), TTS_MFA_REPLAY_GUARD=False)


@pytest.fixture(scope="session")
def live_server(live_app):
    app = live_app
    with app.app_context():
        # One account per role, and a second tracer so tests that count a tracer's day stay independent.
        for login, role in (("tracer", "tracer"), ("tracer2", "tracer"), ("tracer3", "tracer"), ("field", "tracer"),
                            ("supervisor", "supervisor"), ("admin", "admin"), ("reporting", "reporting")):
            user = create_user(None, email=f"{login}@browser.example", name=f"Browser {login.title()}", role=role,
                               password=BROWSER_PASSWORD)
            user.phone = "+447700900990"  # rung for masked calls (simulated here)
            user.is_field_officer = login == "field"
            user.totp_secret = BROWSER_TOTP_SECRET
            user.totp_enrolled_at = utcnow()
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs it with apt-get")
        pytest.skip("Chromium is not installed (run `make test`, which installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, request):
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    shots = SCREENSHOTS / request.node.name
    shots.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 1000))

    def snap(label: str) -> None:
        page.screenshot(path=str(shots / f"{next(counter):02d}-{label}.png"), full_page=True)

    page.snap = snap
    blocked: list[str] = []
    page.on("console", lambda msg: blocked.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text else None)
    yield page
    context.close()
    assert not blocked, f"the Content-Security-Policy blocked something on a page: {blocked}"


def sign_in(page, role: str) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(f"{role}@browser.example")
    page.get_by_label("Password").fill(BROWSER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    import pyotp

    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(BROWSER_TOTP_SECRET).now())
    page.get_by_role("button", name="Continue").click()


# --- Accessibility: axe-core (the npm package) run inside the page ------------------------------------------

AXE_SOURCE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0, 2.1 and 2.2 at levels A and AA; axe's "best-practice" rules are reported by it separately.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


def axe_violations(page) -> list[str]:
    """Run axe-core in the page once it has loaded and describe each violation (rule, impact, the elements)."""
    # A page still loading, or tts.js still wrapping its tables, changes the DOM under axe, which then fails
    # inside itself ("reading 'nthChild'"): wait for the load and for tts.js to say it has finished.
    page.wait_for_load_state("load")
    page.wait_for_selector("html[data-tts-ready]", state="attached")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated through the DevTools protocol, so the page's Content-Security-Policy stays as strict as ever.
        page.evaluate(AXE_SOURCE.read_text(encoding="utf-8") + "\n;void 0")
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
                           AXE_TAGS)
    found = []
    for violation in result["violations"]:
        targets = ", ".join(" ".join(node["target"]) if isinstance(node["target"], list) else str(node["target"])
                            for node in violation["nodes"][:5])
        found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} — {targets}")
    return found


def assert_accessible(page, what: str) -> None:
    found = axe_violations(page)
    assert not found, f"axe-core found WCAG 2.2 A/AA problems on {what} ({page.url}):\n  " + "\n  ".join(found)


def open_from_menu(page, group: str, name: str) -> None:
    """Open a page grouped in the service navigation: the group's link, then the page's link on the group's page."""
    page.get_by_role("navigation", name="Menu").get_by_role("link", name=group).click()
    page.get_by_role("main").get_by_role("link", name=name, exact=True).click()
