"""The charts: the page's font, at most six x-axis labels (so they never touch), every reference named in the
legend and none on the chart, whole percentages, and a sentence instead of an empty chart."""
import re

from tts.reports.charts import MAX_TICKS, bar_chart, line_chart, reach_chart
from tts.ui import duration, percent


def test_a_fortnight_of_days_gets_at_most_six_labels_and_references_go_in_the_legend():
    by_day = {name: {f"2026-11-{d:02d}": {"reached_pct": 50.0 + d} for d in range(1, 29)}
              for name in ("cases", "household_contacts", "non_household_contacts", "contacts")}
    html = str(reach_chart(by_day, {"cases": 78, "contacts": 72, "household_contacts": 50}))
    svg = html[:html.index("</svg>")]
    ticks = re.findall(r'<text x="[\d.]+" y="[\d.]+" text-anchor="middle">([^<]+)</text>', svg)
    assert 2 <= len(ticks) <= MAX_TICKS and ticks[0] == "1 Nov"
    assert "National" not in svg and 'font-size' not in svg  # no label on the chart; size from the stylesheet
    legend = html[html.index("</svg>"):]
    assert "National service, cases: 78%" in legend and "National service, household contacts: 50%" in legend
    assert "all contacts" not in legend  # the chart draws the table's groups: cases, household, other contacts
    assert [n for n in ("Cases", "Household contacts", "Other contacts") if n in legend] == \
        ["Cases", "Household contacts", "Other contacts"]


def test_no_data_is_a_sentence_not_an_empty_chart():
    assert "<svg" not in str(reach_chart({"cases": {}}, {"cases": 78}))
    assert "Nobody was reached" in str(bar_chart([{"label": "< 1h", "count": 0}], "Hours"))
    assert "nothing" in str(line_chart({"cases": []}, title="t", chart_id="c", empty="nothing to see"))
    assert str(bar_chart([{"label": "< 1h", "count": 1200}], "Hours")).count("1,200") == 1


def test_percentages_and_durations_are_written_one_way():
    assert (percent(0.456), percent(1.0), percent(0), percent(None)) == ("46%", "100%", "0%", "")
    assert (duration(0), duration(45), duration(60), duration(125)) == (
        "0 minutes", "45 minutes", "1 hour", "2 hours 5 minutes")
