"""My work, Next, the call screen, outcomes, release and the lease heartbeat."""
from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload

from tts.audit.services import record_event
from tts.callqueue import bp
from tts.callqueue.forms import CALL_OUTCOME_CHOICES, OUTCOME_CHOICES, CallOutcomeForm, OutcomeForm
from tts.callqueue.models import KIND_LABELS, OUTCOME_LABELS, CallAttempt, ItemStatus, Outcome, WorkItem
from tts.callqueue.queries import (
    household_items,
    my_assigned_items,
    my_attempts_today,
    my_callbacks_today,
    waiting_count,
)
from tts.callqueue.errors import ClaimConflict, NotClaimHolder
from tts.callqueue.outcomes import AttemptResult, record_attempt, record_call
from tts.callqueue.services import calling_resumes_at, claim_item, claim_next, extend_claims, held_items, release_item
from tts.cache import cached
from tts.cases.models import Contact
from tts.selfservice.links import completed_link, latest_link
from tts.clock import to_london, utcnow
from tts.escalation.models import REASON_LABELS
from tts.extensions import db
from tts.people.access import may_view_person, work_item_or_403
from tts.permissions import require
from tts.transaction import commit_step, undo
from tts.ui import submit


def load_item_or_404(item_id: int) -> WorkItem:
    return db.session.get(WorkItem, item_id) or abort(404)


def _when(moment: datetime) -> str:
    local, today = to_london(moment), to_london(utcnow()).date()
    if local.date() == today:
        return local.strftime("%H:%M")
    return local.strftime("%H:%M on %-d %B")


@bp.route("/")
@require("queue.work")
def my_work():
    from tts.supervision.services import notices_for

    now = utcnow()
    return render_template(
        "callqueue/my_work.html",
        notices=db.session.scalars(notices_for(current_user.id, now)).all(),
        held=held_items(current_user, now),
        callbacks=db.session.scalars(my_callbacks_today(current_user.id, now)).all(),
        assigned=db.session.scalars(my_assigned_items(current_user.id)).all(),
        attempts=db.session.scalars(my_attempts_today(current_user.id, now)).all(),
        # A count over the whole queue: at national-peak volumes it is the slowest part of the page, so it
        # shares the dashboard's short cache (TTS_DASHBOARD_CACHE_SECONDS; "about N" is all a tracer needs).
        waiting=cached(("queue-waiting", current_user.id), "TTS_DASHBOARD_CACHE_SECONDS",
                       lambda: db.session.scalar(waiting_count(now, current_user.id)))[0],
        resumes_at=calling_resumes_at(now),
        kind_labels=KIND_LABELS, outcome_labels=OUTCOME_LABELS,
    )


@bp.route("/next", methods=["POST"])
@require("queue.work")
def next_item():
    return _claim_next_and_go()


def _claim_next_and_go():
    now = utcnow()
    resumes = calling_resumes_at(now)
    if resumes is not None:
        flash(f"Calls are only made between {_hours_text()}. Calling resumes at {_when(resumes)}.", "info")
        return redirect(url_for("callqueue.my_work"))
    held = held_items(current_user, now)
    if held:  # what they hold comes first: a new claim would only pile up behind it
        flash(f"You still hold the call with {held[0].person.full_name}: record what happened, or give it back, "
              "before you take another.", "info")
        return redirect(url_for("callqueue.call", item_id=held[0].id))
    claim = claim_next(current_user, now)
    if claim is None:
        waiting = db.session.scalar(waiting_count(now, current_user.id)) or 0
        if waiting:
            flash(f"{waiting} {'person is' if waiting == 1 else 'people are'} waiting, but each is in a household "
                  "or on a phone that another tracer is calling right now. Try again in a few minutes.", "info")
        else:
            flash("Nobody is waiting to be called right now. Try again in a few minutes.", "info")
        return redirect(url_for("callqueue.my_work"))
    return redirect(url_for("callqueue.call", item_id=claim.item.id))


def _hours_text() -> str:
    from flask import current_app

    return current_app.config["TTS_CALLING_HOURS"].replace("-", " and ")


@bp.route("/items/<id:item_id>")
@require("queue.work", record="work_item")
def call(item_id: int):
    return _render_call(work_item_or_403(current_user, item_id))


def _render_call(item: WorkItem, posted: OutcomeForm | None = None, call_form: CallOutcomeForm | None = None):
    """The call screen; `posted` is an outcome form that failed, shown with its answers and errors (or
    `call_form`, the one outcome for everyone on the call)."""
    now = utcnow()
    holding = item.is_claimed_by(current_user, now)
    if not holding and not may_view_person(current_user, item.person_id):
        abort(403)
    record_event(current_user, "person.view", item.person, {"work_item_id": item.id, "for": "call"})
    companions = []
    others = []
    stmt = household_items(item.person)
    if stmt is not None:
        stmt = stmt.options(contains_eager(WorkItem.person), joinedload(WorkItem.contact),
                            joinedload(WorkItem.claimed_by))
        for other in db.session.scalars(stmt):
            (companions if other.is_claimed_by(current_user, now) else others).append(other)
    forms = {i.id: OutcomeForm(formdata=None, claim_token=i.claim_token, prefix=f"i{i.id}")
             for i in [item, *companions] if i.is_claimed_by(current_user, now)}
    if posted is not None and item.id in forms:
        forms[item.id] = posted
    on_call = [i for i in [item, *companions] if i.is_claimed_by(current_user, now)]
    if call_form is None and len(on_call) > 1:
        call_form = CallOutcomeForm(formdata=None, items=[i.id for i in on_call])
    earlier_calls = db.session.scalars(select(CallAttempt).where(CallAttempt.person_id == item.person_id)
                                       .options(joinedload(CallAttempt.tracer))
                                       .order_by(CallAttempt.created_at.desc()).limit(10)).all()
    named = []
    if item.case_id:
        named = db.session.scalars(select(Contact).where(Contact.case_id == item.case_id)
                                   .options(joinedload(Contact.person)).order_by(Contact.id)).all()
    self_report = completed_link(item.case) if item.case_id else None
    answered = latest_link(contact=item.contact) if item.contact_id else None
    return render_template("callqueue/call.html", item=item, holding=holding, companions=companions,
                           earlier_calls=earlier_calls, named_contacts=named, self_report=self_report,
                           contact_answer=answered if answered is not None and answered.response else None,
                           failed_form=posted, call_form=call_form if len(on_call) > 1 else None,
                           on_call=on_call, call_outcome_choices=CALL_OUTCOME_CHOICES,
                           others=others, forms=forms, now=now, outcome_choices=OUTCOME_CHOICES,
                           kind_labels=KIND_LABELS, reason_labels=REASON_LABELS)


@bp.route("/items/<id:item_id>/claim", methods=["POST"])
@require("queue.work", record="work_item")
def claim(item_id: int):
    item = work_item_or_403(current_user, item_id)
    try:
        claim_item(current_user, item)
    except ClaimConflict as exc:
        undo()
        flash(str(exc), "info")
    return redirect(url_for("callqueue.call", item_id=item_id))


@bp.route("/items/<id:item_id>/release", methods=["POST"])
@require("queue.work", record="work_item")
def release(item_id: int):
    item = load_item_or_404(item_id)
    try:
        release_item(current_user, item, request.form.get("claim_token") or None)
    except NotClaimHolder as exc:
        undo()
        flash(str(exc), "info")
    else:
        flash(f"{item.person.full_name} is back in the queue for someone else to call", "success")
    return redirect(url_for("callqueue.my_work"))


@bp.route("/items/<id:item_id>/attempts", methods=["POST"])
@require("queue.work", record="work_item")
def record(item_id: int):
    item = load_item_or_404(item_id)
    form = OutcomeForm(prefix=f"i{item_id}")
    name = item.person.full_name
    try:
        result = submit(form, lambda: record_attempt(
            current_user, item, outcome=form.outcome.data or None, notes=form.notes.data,
            callback_at=form.callback_at(), language=form.language.data, claim_token=form.claim_token.data or None),
            prefix="", aliases={"callback_at": "callback_date"})
    except NotClaimHolder as exc:
        return _no_longer_yours(str(exc))
    if result is None:
        # Back to the call screen, answers kept and problems listed; for a companion's form, the screen is
        # shown from that person's side (the others on the call are still listed with their own forms).
        return _render_call(item, posted=form)
    flash(_outcome_message(name, result), "success")
    return _after_outcome()


def _no_longer_yours(message: str):
    undo()
    flash(message, "info")
    return redirect(url_for("callqueue.my_work"))


def _after_outcome():
    """People claimed with this one for the same call come first; then, if asked, the next in the queue."""
    remaining = held_items(current_user)
    if remaining:
        flash(f"You still hold the call with {remaining[0].person.full_name}: here it is.", "info")
        return redirect(url_for("callqueue.call", item_id=remaining[0].id))
    if request.form.get("then") == "next":
        commit_step("the outcome stands whatever happens to the next claim")
        return _claim_next_and_go()
    return redirect(url_for("callqueue.my_work"))


@bp.route("/items/<id:item_id>/call-outcome", methods=["POST"])
@require("queue.work", record="work_item")
def record_for_call(item_id: int):
    """One outcome for everyone claimed onto this call: the number rang out, went to voicemail, was busy
    or was wrong. Each person's own rules apply (retries, escalation, texts); all or nothing."""
    item = load_item_or_404(item_id)
    form = CallOutcomeForm()
    allowed = {value for value, _ in CALL_OUTCOME_CHOICES}
    wanted = set(form.items.data or [])
    chosen = [i for i in held_items(current_user) if i.id in wanted]
    if len(chosen) < len(wanted):
        return _no_longer_yours("Some of these people are no longer yours to call: they were reassigned, or your "
                                "claim expired")
    try:
        results = submit(form, lambda: record_call(
            current_user, [(i, request.form.get(f"token-{i.id}") or None) for i in chosen],
            outcome=form.outcome.data if form.outcome.data in allowed else None, notes=form.notes.data), prefix="")
    except NotClaimHolder as exc:
        return _no_longer_yours(str(exc))
    if results is None:
        return _render_call(item, call_form=form)
    names = [r.item.person.full_name for r in results]
    escalated = [r.item.person.full_name for r in results if r.escalation is not None]
    label = OUTCOME_LABELS[Outcome(results[0].attempt.outcome)].lower()
    message = f"Call recorded for {_and_list(names)}: {label}."
    if escalated:
        message += f" Passed to the local team: {_and_list(escalated)}."
    flash(message, "success")
    return _after_outcome()


def _and_list(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _outcome_message(name: str, result: AttemptResult) -> str:
    outcome, item = result.attempt.outcome, result.item
    text = f"Call with {name} recorded: {OUTCOME_LABELS[Outcome(outcome)].split(':')[0].lower()}."
    if result.escalation is not None:
        text += f" Passed to the local team ({REASON_LABELS[result.escalation.reason].lower()})."
    elif item.status == ItemStatus.OPEN and outcome != Outcome.LANGUAGE_BARRIER:
        text += f" Next attempt after {_when(item.due_at)}."
    if result.new_item is not None:
        text += f" Callback booked for {_when(result.new_item.due_at)}, assigned to you."
    if result.assigned_to is not None:
        text += f" Passed to {result.assigned_to.name}, who speaks {result.attempt.language}."
    elif outcome == Outcome.LANGUAGE_BARRIER:
        text += f" Nobody on the team lists {result.attempt.language}: back in the queue for an interpreter-assisted call."
    if result.raised:
        names = ", ".join(sorted({i.person.full_name for i in result.raised}))
        text += f" Their household ({names}) moved up the queue."
    return text


@bp.route("/heartbeat", methods=["POST"])
@require("queue.work")
def heartbeat():
    count = extend_claims(current_user)
    return {"extended": count}


@bp.route("/shift", methods=["POST"])
@require("queue.work")
def shift():
    from tts.supervision.services import set_shift

    on = request.form.get("on") == "1"
    set_shift(current_user, on)
    flash("You are on shift: supervisors can see you are available" if on else "You are off shift", "success")
    return redirect(url_for("callqueue.my_work"))
