"""The import's optional `setting` column: a setting in the register is linked (and makes a cluster), any
other name waits to be matched, a bad setting postcode rejects the file naming the row; both ways of
importing."""
import pytest
from sqlalchemy import select

from tests.imports.test_imports import COLUMNS
from tests.outbreaks.conftest import new_setting
from tts.extensions import db
from tts.imports.services import import_now_or_later
from tts.outbreaks.models import Outbreak, SettingLink, SettingMention

HEADER = ",".join((*COLUMNS, "setting", "setting_postcode"))
ROWS = [
    "NR-11,case,Tamsin,Wray,1984-02-11,07700 900611,,1 Referral Row Sheffield,s6 2aa,2026-11-21,,,,,Ferncliffe House 1,S11 8YA",
    "NR-12,case,Vic,Zorn,1979-07-07,07700 900612,,9 Third St,S2 4SU,2026-11-22,,,,,ferncliffe house 1,",
    "NR-13,contact,Uma,Yelland,12/05/1990,0114 496 0613,,5 Other Road,S10 2TN,,,NR-11,close,2026-11-20,Grindstone Gym,",
    "NR-14,case,Wil,Quarry,1970-01-01,07700 900614,,3 Fourth St,S3 7AA,2026-11-22,,,,,,",
]


@pytest.mark.parametrize("set_based", [True, False])
def test_settings_named_in_an_import_are_linked_or_wait_to_be_matched(app, daytime, monkeypatch, set_based):
    monkeypatch.setitem(app.config, "TTS_IMPORT_SET_BASED", set_based)
    with app.app_context():
        home = new_setting(1)
        batch = import_now_or_later(None, "settings.csv", HEADER + "\n" + "\n".join(ROWS) + "\n")
        assert batch.status == "completed", batch.errors
        links = db.session.scalars(select(SettingLink).where(SettingLink.setting_id == home.id)).all()
        assert len(links) == 2 and {link.source for link in links} == {"import"}
        outbreak = db.session.scalar(select(Outbreak).where(Outbreak.setting_id == home.id))
        assert outbreak is not None and len(outbreak.members) == 2  # two cases, a day apart: a cluster
        mention = db.session.scalar(select(SettingMention))
        assert mention.text == "Grindstone Gym" and mention.contact_id is not None and mention.source == "import"


def test_a_bad_setting_postcode_rejects_the_file_naming_the_row(app, daytime):
    bad = ROWS[0].replace("S11 8YA", "NOWHERE")
    orphan = ROWS[3] + "S1 2HH"  # a postcode with no setting named
    with app.app_context():
        batch = import_now_or_later(None, "bad.csv", HEADER + "\n" + bad + "\n" + orphan + "\n")
        assert batch.status == "rejected"
        assert {(e["row"], e["column"]) for e in batch.errors} == {(2, "setting_postcode"), (3, "setting")}
        assert db.session.scalar(select(SettingLink.id)) is None
