"""Two workers' email passes at the same moment (two connections, as on two servers) send each letter once.
Real threads against a real SMTP server; PostgreSQL (SKIP LOCKED)."""
import threading

import pytest
from sqlalchemy import select

from tests.conftest import make_app
from tests.letters.conftest import Mailbox
from tests.outbreaks.conftest import new_case
from tts.extensions import db
from tts.letters import services
from tts.letters.models import Letter

LETTERS, WORKERS = 12, 4


@pytest.mark.no_rollback
def test_concurrent_worker_passes_email_each_letter_once(fresh_database_url, is_postgres):
    if not is_postgres:
        pytest.skip("row locks between connections: PostgreSQL")
    with Mailbox() as mailbox:
        app = make_app(fresh_database_url("letters_race"), TTS_SMTP_HOST="127.0.0.1", TTS_SMTP_PORT=mailbox.port,
                       TTS_SMTP_SECURITY="none")
        with app.app_context():
            for n in range(LETTERS):
                letter, _ = services.make_letter(None, new_case(n))
                services.request_email(None, letter, f"person{n}@example.org")
            db.session.commit()
        gate = threading.Barrier(WORKERS, timeout=30)
        sent, errors = [], []

        def worker() -> None:
            try:
                with app.app_context():
                    gate.wait()
                    sent.append(services.send_letters(limit=5))
                    sent.append(services.send_letters(limit=5))
                    sent.append(services.send_letters(limit=5))
            except BaseException as exc:  # noqa: BLE001 (reported below)
                errors.append(exc)

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(WORKERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert errors == []
        assert sum(sent) == LETTERS
        assert sorted(m["To"] for m in mailbox.messages) == sorted(f"person{n}@example.org" for n in range(LETTERS))
        with app.app_context():
            assert set(db.session.scalars(select(Letter.email_status))) == {"sent"}
            db.session.remove()
            db.engine.dispose()
