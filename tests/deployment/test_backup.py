"""`flask backup dump` and `flask backup restore-drill` on the test database (PostgreSQL)."""
import json

import pytest
from sqlalchemy import text

from tests.conftest import make_app
from tests.factories import person_data
from tts.cases.services import create_case
from tts.clock import today
from tts.extensions import db

pytestmark = pytest.mark.no_rollback


@pytest.fixture
def council(fresh_database_url):
    app = make_app(fresh_database_url("backup"))
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("backups are of PostgreSQL (SQLite is one file: development only)")
        for n in range(4):
            create_case(None, person_data(n, address=f"{n} Backup Lane"), test_date=today(), symptom_onset_date=None)
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_dump_restores_and_passes_the_drill(council, tmp_path):
    runner = council.test_cli_runner()
    dumped = runner.invoke(args=["backup", "dump", "--to", str(tmp_path)])
    assert dumped.exit_code == 0, dumped.output
    dump = next(tmp_path.glob("tts-*.dump"))
    manifest = json.loads((tmp_path / f"{dump.name}.json").read_text())
    assert manifest["tables"]["cases"] == 4 and manifest["tables"]["audit_events"] >= 4
    drill = runner.invoke(args=["backup", "restore-drill", str(dump)])
    assert drill.exit_code == 0, drill.output
    assert "schema at the code's newest migration" in drill.output
    assert "audit chain verifies" in drill.output and "row counts match the manifest" in drill.output
    with council.app_context():  # the scratch database is gone
        assert db.session.scalar(text("SELECT count(*) FROM pg_database WHERE datname LIKE 'tts_restore_drill_%'")) == 0


def test_the_drill_fails_naming_what_does_not_match(council, tmp_path):
    runner = council.test_cli_runner()
    assert runner.invoke(args=["backup", "dump", "--to", str(tmp_path)]).exit_code == 0
    dump = next(tmp_path.glob("tts-*.dump"))
    manifest_path = tmp_path / f"{dump.name}.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["tables"]["cases"] = 5  # the backup lost a row
    manifest_path.write_text(json.dumps(manifest))
    drill = runner.invoke(args=["backup", "restore-drill", str(dump)])
    assert drill.exit_code == 1 and "cases 5 in the manifest, 4 restored" in drill.output
    manifest_path.unlink()
    missing = runner.invoke(args=["backup", "restore-drill", str(dump)])
    assert missing.exit_code == 1 and "manifest" in missing.output
