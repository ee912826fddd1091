"""The supervisor dashboard (refreshes itself), the filterable queue and bulk reassignment."""
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from tts.audit.services import audited_list_page
from tts.input_guard import bounded_int
from tts.callqueue.models import KIND_LABELS, OUTCOME_LABELS, ItemKind, WorkItem
from tts.clock import utcnow
from tts.errors import DomainError, ValidationFailed
from tts.extensions import db
from tts.outbreaks.services import count_waiting_mentions, live_outbreaks, waiting_actions
from tts.permissions import require
from tts.selfservice.alerts import count_open, open_alerts, resolve_alert
from tts.selfservice.checkins import non_responders
from tts.selfservice.models import TeamAlert
from tts.supervision import bp
from tts.ui import flash_errors
from tts.supervision.services import (
    QueueFilter,
    activity_counts,
    load_assignee,
    oldest_waiting,
    overdue_count,
    queue_depth,
    queue_items,
    reassign_items,
    sla_today,
    staff_who_call,
    tracer_activity,
    tracer_day,
)
from tts.transaction import undo

BAND_LABELS = {1: "Band 1: callbacks and raised", 2: "Band 2: cases and household contacts", 3: "Band 3: other contacts"}


def _figures():
    from tts.cache import cached

    now = utcnow()
    # The queue counts and today's first-call figures scan many rows: shared for a few seconds between
    # supervisors (plain data only). Who is on a call, and the oldest waiting item, are always live.
    (depth, overdue, sla, counts), _at = cached(
        "dashboard", "TTS_DASHBOARD_CACHE_SECONDS",
        lambda: (queue_depth(now), overdue_count(now), sla_today(now), activity_counts(now)))
    return {"now": now, "depth": depth, "oldest": oldest_waiting(now), "overdue": overdue,
            "sla": sla, "activity": tracer_activity(now, counts), "band_labels": BAND_LABELS,
            "alerts_open": count_open(), "outbreaks": live_outbreaks(5), "outbreak_work": waiting_actions(5),
            "mentions_waiting": count_waiting_mentions()}


@bp.route("/")
@require("supervise")
def dashboard():
    return render_template("supervision/dashboard.html", **_figures(),
                           refresh_seconds=current_app.config["TTS_DASHBOARD_REFRESH_SECONDS"])


@bp.route("/panel")
@require("supervise")
def panel():
    """The part of the dashboard that is fetched again every TTS_DASHBOARD_REFRESH_SECONDS."""
    return render_template("supervision/_panel.html", **_figures())


def _filter_from_args(args) -> QueueFilter:
    def number(name, cast=int):
        try:
            return cast(args.get(name)) if args.get(name) not in (None, "") else None
        except ValueError:
            return None

    return QueueFilter(tracer_id=number("tracer"), band=number("band"), kind=args.get("kind") or None,
                       district=args.get("district") or None, older_than_hours=number("older_than", float),
                       waiting_only=args.get("waiting") == "1", overdue_only=args.get("overdue") == "1",
                       unassigned_only=args.get("unassigned") == "1")


@bp.route("/tracers/<int:user_id>")
@require("supervise", record="role", note="any member of staff who makes calls (tracers and supervisors); 404 for others")
def tracer(user_id: int):
    """One tracer's day: their calls and reach today, what they hold, their shift and idle time, their week."""
    from tts.auth.models import User
    from flask import abort

    user = db.session.get(User, user_id)
    if user is None or user.role not in ("tracer", "supervisor"):
        abort(404)
    day = tracer_day(user)
    html = render_template("supervision/tracer.html", day=day, now=utcnow(), outcome_labels=OUTCOME_LABELS,
                           kind_labels=KIND_LABELS, idle_after=current_app.config["TTS_IDLE_MINUTES"])
    return audited_list_page(html, current_user, "tracer",
                             [c.person_id for c in day.calls] + [i.person_id for i in day.held])


@bp.route("/queue")
@require("supervise")
def queue():
    f = _filter_from_args(request.args)
    stmt = queue_items(f)
    items = db.session.scalars(stmt.limit(100)).unique().all()
    total = db.session.scalar(select(func.count()).select_from(
        stmt.with_only_columns(WorkItem.id).order_by(None).subquery())) or 0
    html = render_template("supervision/queue.html", items=items, total=total, f=f, staff=staff_who_call(), now=utcnow(),
                           kinds=[(k.value, KIND_LABELS[k]) for k in ItemKind], band_labels=BAND_LABELS,
                           args=request.args)
    return audited_list_page(html, current_user, "queue", (i.person_id for i in items))


@bp.route("/reassign", methods=["POST"])
@require("supervise")
def reassign():
    ids = [i for i in (bounded_int(v, 1) for v in request.form.getlist("work_item_ids")) if i is not None]
    back = request.form.get("back") or url_for("supervision.queue")
    if not back.startswith("/"):
        back = url_for("supervision.queue")
    try:
        assignee = load_assignee(request.form.get("assignee_id"))
        changed, skipped = reassign_items(current_user, ids, assignee)
    except (ValidationFailed, DomainError) as exc:
        undo()
        first = f"item-{ids[0]}" if ids else "items"
        flash_errors("Nothing was reassigned", exc if isinstance(exc, ValidationFailed)
                     else ValidationFailed({"assignee_id": [str(exc)]}),
                     {"work_item_ids": first, "assignee_id": "assignee_id"})
        return redirect(back)
    target = assignee.name if assignee else "the shared queue"
    text = f"{len(changed)} item{'s' if len(changed) != 1 else ''} moved to {target}."
    if skipped:
        text += f" {len(skipped)} were no longer in the queue and were left alone."
    flash(text, "success")
    return redirect(back)


@bp.route("/alerts")
@require("supervise")
def alerts():
    """What people told us by text or online that a supervisor should act on now (audited: names show)."""
    shown = open_alerts(limit=200)
    html = render_template("supervision/alerts.html", alerts=shown)
    return audited_list_page(html, current_user, "supervision.alerts", [a.person_id for a in shown])


@bp.route("/alerts/<id:alert_id>/resolve", methods=["POST"])
@require("supervise", record="role")
def resolve(alert_id: int):
    alert = db.session.get(TeamAlert, alert_id) or abort(404)
    try:
        resolve_alert(current_user, alert)
    except DomainError as exc:
        undo()
        flash(str(exc), "error")
    else:
        flash(f"Marked as dealt with: {alert.kind_label.lower()}" + (f" ({alert.person.full_name})" if alert.person else ""),
              "success")
    return redirect(url_for("supervision.alerts"))


PAGE_LIMIT = 200  # the longest waiting first: more than a supervisor can act on in one sitting


@bp.route("/non-responders", endpoint="non_responders")
@require("supervise")
def non_responders_page():
    rows = non_responders(limit=PAGE_LIMIT)
    html = render_template("supervision/non_responders.html", rows=rows, limit=PAGE_LIMIT)
    return audited_list_page(html, current_user, "supervision.non_responders", [c.person_id for c, _ in rows])
