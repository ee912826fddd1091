"""Planner charts: the reports' server-rendered SVG line chart (tts/reports/charts.py), with the planner's
group names (its "other contacts" are the reports' non-household contacts)."""
from functools import partial

from tts.reports.charts import COLOURS, LABELS
from tts.reports.charts import line_chart as _line_chart

COLOURS = {**COLOURS, "other_contacts": COLOURS["non_household_contacts"]}
LABELS = {**LABELS, "other_contacts": LABELS["non_household_contacts"]}
line_chart = partial(_line_chart, labels=LABELS, colours=COLOURS)
