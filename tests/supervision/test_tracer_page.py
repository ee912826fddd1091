"""A tracer's page: a supervisor sees their day (calls, reach, what they hold, shift, idle time, week)."""
from datetime import timedelta

from sqlalchemy import select

from tests.conftest import sign_in
from tests.factories import person_data
from tts.auth.models import User
from tts.callqueue.outcomes import record_attempt
from tts.callqueue.services import claim_next
from tts.cases.services import create_case
from tts.clock import today
from tts.extensions import db
from tts.supervision.services import set_shift, tracer_day


def _queue(n: int) -> None:
    for i in range(n):
        create_case(None, person_data(300 + i), test_date=today(), symptom_onset_date=None)
    db.session.flush()


def test_a_tracers_day_counts_calls_reach_held_items_shift_and_idle_time(ctx, make_user, daytime):
    with ctx():
        tracer = db.session.get(User, make_user("tracer")["id"])
        _queue(3)
        set_shift(tracer, True)  # on shift at DAYTIME
        db.session.flush()
        daytime.shift(timedelta(minutes=10))
        claim = claim_next(tracer)
        record_attempt(tracer, claim.item, outcome="reached", claim_token=claim.item.claim_token)
        daytime.shift(timedelta(minutes=75))  # a 75-minute gap with no call
        claim = claim_next(tracer)
        record_attempt(tracer, claim.item, outcome="no_answer", claim_token=claim.item.claim_token)
        daytime.shift(timedelta(minutes=40))  # and 40 minutes since the last call
        held = claim_next(tracer)  # the third, held now (claiming is not a call)
        day = tracer_day(tracer)
        assert [c.outcome for c in day.calls] == ["no_answer", "reached"]  # newest first
        assert day.reached == 1 and day.reach_share == 0.5
        assert [i.id for i in day.held] == [held.item.id]
        assert len(day.shift_spells) == 1 and day.shift_spells[0][1] is None and day.on_shift_minutes == 125
        assert day.idle_minutes == 75 + 40  # gaps of 30 minutes or more, on shift; the first 10 minutes are not
        assert day.week[-1][1:] == (2, 1) and len(day.week) == 7
        set_shift(tracer, False)
        db.session.flush()
        daytime.shift(timedelta(hours=2))  # off shift: no more idle time counted
        assert tracer_day(tracer).idle_minutes == 115


def test_supervisors_open_a_tracers_page_from_the_dashboard_and_others_cannot(client, ctx, make_user, daytime):
    tracer = make_user("tracer")
    with ctx():
        _queue(1)
        user = db.session.get(User, tracer["id"])
        claim = claim_next(user)
        record_attempt(user, claim.item, outcome="reached", claim_token=claim.item.claim_token)
        db.session.commit()
        name = user.name
        called = claim.item.person.full_name
    sign_in(client, make_user("supervisor"))
    panel = client.get("/supervise/panel").get_data(as_text=True)
    assert f'href="/supervise/tracers/{tracer["id"]}">{name}</a>' in panel
    page = client.get(f"/supervise/tracers/{tracer['id']}").get_data(as_text=True)
    assert f"<h1 class=\"govuk-heading-l\">{name}</h1>" in page and called in page
    assert 'data-testid="reached-today">1 (100% of their calls)' in page
    with ctx():
        from tts.audit.models import AuditEvent

        viewed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "people.list_view")
                                    .order_by(AuditEvent.id.desc())).first()
        assert viewed is not None and (viewed.details or {}).get("page") == "tracer"
    admin = make_user("reporting")
    assert client.get(f"/supervise/tracers/{admin['id']}").status_code == 404  # not someone who calls
    assert client.get("/supervise/tracers/2000000000").status_code == 404
    client.post("/logout")
    sign_in(client, make_user("tracer"))
    assert client.get(f"/supervise/tracers/{tracer['id']}").status_code == 403
