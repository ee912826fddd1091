"""The KPI page, the publication download, and the KPI API."""
import csv
import io
from datetime import date, timedelta

from flask import Response, current_app, jsonify, render_template, request

from tts.api import bp as api_bp
from tts.api.auth import api_require
from tts.clock import today
from tts.errors import ErrorCollector
from tts.reports import bp
from tts.reports.charts import LABELS, bar_chart, reach_chart
from tts.reports.filters import Filters
from tts.reports.kpis import NATIONAL_REFERENCE, compute_cached, publication_rows
from tts.permissions import require
from tts.api.openapi import KPIS, operation
from tts.api.schemas import DATE
from tts.cases.models import CaseStatus, ClosureReason, ContactStatus

PUBLIC_KEYS = ("total", "reached", "reached_pct", "reached_within_24h_pct", "median_hours_to_reach",
               # Reached by text (contacts who confirmed their advice from their link), apart from reached above.
               "reached_by_text", "reached_by_text_pct", "reached_any_pct", "reached_any_within_24h_pct")


EARLIEST_REPORT_DATE = date(2020, 1, 1)  # before the service existed: a mistyped year


def parse_filters(args, errors: ErrorCollector) -> Filters:
    def day(name: str, default: date) -> date:
        raw = (args.get(name) or "").strip()
        if not raw:
            return default
        try:
            value = date.fromisoformat(raw) if len(raw) == 10 else None
        except ValueError:
            value = None
        if value is None:
            errors.add(name, "Use a date in the form YYYY-MM-DD")
            return default
        if not EARLIEST_REPORT_DATE <= value <= today() + timedelta(days=366):
            errors.add(name, f"Use a date from {EARLIEST_REPORT_DATE.year} to a year from today")
            return default
        return value

    date_to = day("to", today())
    date_from = day("from", date_to - timedelta(days=13))
    if date_from > date_to:
        errors.add("from", "The start date must be on or before the end date")
    if (date_to - date_from).days > 366:
        errors.add("from", "Choose a range of at most a year")
    source = args.get("source") or None
    if source and source not in ("local", "national_referral", "api"):
        errors.add("source", "Source must be local, national_referral or api")
    return Filters(date_from, date_to, district=args.get("district") or None, source=source)


@bp.route("/")
@require("reports.view")
def kpis():
    errors = ErrorCollector()
    f = parse_filters(request.args, errors)
    data = compute_cached(f)
    charts = {"reach": reach_chart(data["by_day"], NATIONAL_REFERENCE),
              "hours": {name: bar_chart(data["hours_to_reach"][name], f"Hours to reach: {LABELS[name].lower()}",
                                        chart_id=f"hours-{name}",
                                        empty=f"No {LABELS[name].lower()} were reached in these dates, so there "
                                              "is no chart.")
                        for name in ("cases", "household_contacts", "non_household_contacts")}}
    from tts.outbreaks.models import SettingKind

    return render_template("reports/kpis.html", f=f, data=data, charts=charts, errors=errors.errors,
                           labels=LABELS, setting_kinds=SettingKind.labels(), reference=NATIONAL_REFERENCE, args=request.args,
                           case_statuses=CaseStatus, contact_statuses=ContactStatus, closure_reasons=ClosureReason)


@bp.route("/publication.csv")
@require("reports.view")
def publication():
    errors = ErrorCollector()
    f = parse_filters(request.args, errors)
    errors.raise_if_any()
    threshold = current_app.config["TTS_SUPPRESSION_THRESHOLD"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([f"TTS KPIs {f.date_from} to {f.date_to}; counts below {threshold} suppressed as [c]"])
    writer.writerows(publication_rows(compute_cached(f), threshold))
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="tts-kpis-{f.date_from}-{f.date_to}.csv"'})


@api_bp.get("/reports/kpis")
@operation("getKpis", "KPIs for a date range", schema=KPIS, query={"from*": DATE, "to*": DATE,
           "district": {"type": "string"}, "source": {"type": "string"}})
@api_require("reports.view")
def kpis_api():
    errors = ErrorCollector()
    f = parse_filters(request.args, errors)
    if not request.args.get("from"):
        errors.add("from", "Give the start date, YYYY-MM-DD")
    if not request.args.get("to"):
        errors.add("to", "Give the end date, YYYY-MM-DD")
    errors.raise_if_any()
    data = compute_cached(f)
    body = {name: {k: data[name][k] for k in PUBLIC_KEYS}
            for name in ("cases", "contacts", "household_contacts", "non_household_contacts")}
    body["escalations"] = data["escalations"]
    body["computed_at"] = data["computed_at"]
    body["support_needs"] = data["support_needs"]
    body["messages"] = data["messages"]
    body["from"], body["to"] = f.date_from.isoformat(), f.date_to.isoformat()
    return jsonify(body)
