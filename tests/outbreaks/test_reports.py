"""KPIs and exports split by setting kind; the outbreaks export, pseudonymised unless asked otherwise."""
import csv
import io

from tests.outbreaks.conftest import new_case, new_setting
from tts.clock import today
from tts.outbreaks.services import link
from tts.reports.datasets import dataset
from tts.reports.exporting import csv_chunks
from tts.reports.filters import Filters
from tts.reports.kpis import compute


def _rows(name: str, identifiable: bool) -> list[dict]:
    text = "".join(csv_chunks(dataset(name, Filters(today(), today()), identifiable), today()))
    return list(csv.DictReader(io.StringIO(text)))


def test_kpis_and_exports_by_setting_kind(octx):
    home, school = new_setting(1), new_setting(2, kind="school", name="Pretend Primary")
    for n in (1, 2):
        link(None, home, case=new_case(n))
    link(None, school, case=new_case(3))
    new_case(4)  # attended nowhere known
    figures = compute(Filters(today(), today()))["by_setting_kind"]
    assert figures["care_home"]["cases"]["total"] == 2 and figures["care_home"]["outbreaks_opened"] == 1
    assert figures["care_home"]["outbreaks_live"] == 1
    assert figures["school"]["cases"]["total"] == 1 and figures["school"]["outbreaks_opened"] == 0
    assert set(figures) == {"care_home", "school"}
    kinds = sorted(r["setting_kind"] for r in _rows("cases", False))
    assert kinds == ["", "care_home", "care_home", "school"]

    pseudonymous = _rows("outbreaks", False)
    assert len(pseudonymous) == 1
    row = pseudonymous[0]
    assert row["setting_kind"] == "care_home" and row["case_count"] == "2" and row["opened_by_rule"] == "1"
    assert row["setting_postcode_district"] == "S11" and "setting_name" not in row and "setting_postcode" not in row
    identifiable = _rows("outbreaks", True)[0]
    assert identifiable["setting_name"] == "Ferncliffe House 1" and identifiable["setting_postcode"] == "S11 8YA"


def test_the_kpi_page_shows_the_split(app, ctx, client, make_user):
    from tests.conftest import sign_in

    sign_in(client, make_user("reporting"))
    with ctx():
        link(None, new_setting(3), case=new_case(5))
    page = client.get("/reports/").get_data(as_text=True)
    assert 'data-testid="by-setting-kind"' in page and "Care home" in page
    assert client.get("/reports/exports").status_code == 200
