"""`flask demo load`: a council's fortnight, made by the app's own services, with something on every page."""
from datetime import timedelta

import pyotp
import pytest
import time_machine
from sqlalchemy import func, select

from tests.conftest import make_app
from tts.extensions import db

pytestmark = pytest.mark.no_rollback
DAY = "2026-11-25T15:30:00+00:00"  # a Wednesday afternoon: the fortnight ends mid-shift


@pytest.fixture(scope="module")
def demo(fresh_database_url):
    with time_machine.travel(DAY, tick=False):
        app = make_app(fresh_database_url("demo"), TTS_MFA_REPLAY_GUARD=False)
        runner = app.test_cli_runner()
        first = runner.invoke(args=["demo", "load"])
        again = runner.invoke(args=["demo", "load"])
        yield app, first, again
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def counts(column, *where):
    return dict(db.session.execute(select(column, func.count()).where(*where).group_by(column)).all())


def test_the_fortnight_has_a_few_hundred_cases_their_contacts_and_every_call_outcome(demo):
    from tts.callqueue.models import CallAttempt
    from tts.callqueue.models import OUTCOME_LABELS
    from tts.cases.models import Case, Contact
    from tts.clock import today

    app, first, _again = demo
    assert first.exit_code == 0, first.output
    assert "Demo data: a fortnight of" in first.output
    with time_machine.travel(DAY, tick=False), app.app_context():
        cases = db.session.scalar(select(func.count()).select_from(Case))
        contacts = db.session.scalar(select(func.count()).select_from(Contact))
        # About 2.6 contacts are named per case reached; the tracers also make the check-ins' welfare calls, and
        # the cases of the last day or two are not all reached yet.
        assert 200 <= cases <= 400 and contacts >= 1.6 * cases
        by_day = counts(Case.test_date)
        assert min(by_day) <= today() - timedelta(days=13) and len(by_day) >= 12  # spread over the fortnight
        assert set(counts(Case.status)) == {"open", "isolating", "completed", "closed"}
        assert set(counts(Contact.status)) >= {"open", "reached", "became_case"}
        assert set(counts(CallAttempt.outcome)) == set(OUTCOME_LABELS)
        tracers = counts(CallAttempt.tracer_id)
        assert len(tracers) == 4 and min(tracers.values()) > 50  # the demo tracer and three colleagues


def test_the_team_around_the_queue_has_worked_too(demo):
    from tts.escalation.models import Escalation, Visit
    from tts.simulation.models import SimulationRun
    from tts.support.models import SupportNeed
    from tts.telephony.models import Message

    app, _first, _again = demo
    with time_machine.travel(DAY, tick=False), app.app_context():
        assert set(counts(Escalation.status)) >= {"open", "assigned", "resolved"}
        assert set(counts(Escalation.reason)) >= {"no_phone", "attempts_exhausted", "wrong_number"}
        assert set(counts(Visit.outcome)) >= {"reached", "no_answer"}
        assert set(counts(SupportNeed.status)) >= {"requested", "referred", "fulfilled", "declined"}
        assert set(counts(Message.status)) >= {"queued", "delivered", "undelivered", "skipped", "received"}
        assert counts(Message.status, Message.direction == "inbound")["received"] >= 5  # people reply
        assert db.session.scalar(select(func.count()).select_from(SimulationRun)) == 1  # the worker runs it
        # People isolating answered their check-ins (most 1, a few 2 or 3), some did not: alerts were raised.
        from tts.selfservice.models import CheckIn, TeamAlert

        assert set(counts(CheckIn.reply)) >= {"1", "2", "3", None}
        assert set(counts(TeamAlert.kind)) >= {"checkin_help", "checkin_worse"}
        from tts.cases.models import Contact

        assert set(counts(Contact.reached_by)) >= {"call", "text", None}  # some confirmed their advice by text
        # The settings register, and the care-home outbreak the cluster rule opened, with its chain.
        from tts.outbreaks import services as outbreaks
        from tts.outbreaks.models import Outbreak, Setting, SettingMention

        assert db.session.scalar(select(func.count()).select_from(Setting)) == 4
        outbreak = db.session.scalars(select(Outbreak)).one()
        assert outbreak.found_by_rule and outbreak.setting.kind == "care_home"
        assert len(outbreaks.chain(outbreaks.member_cases(outbreak))) == 1
        assert {a.kind for a in outbreak.actions} == {"call_setting", "risk_assessment"}
        assert db.session.scalar(select(func.count()).select_from(SettingMention)) == 1


def test_loading_twice_changes_nothing_and_the_audit_chain_verifies(demo):
    from tts.audit.chain import verify
    from tts.cases.models import Case

    app, _first, again = demo
    assert again.exit_code == 0 and "Demo data:" not in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) <= 400
        assert verify(db.session).ok


def test_the_same_seed_gives_the_same_fortnight(demo, fresh_database_url):
    """Seeded: a second database loaded at the same moment holds the same people, calls and outcomes."""
    from tts.callqueue.models import CallAttempt
    from tts.people.models import Person

    app, _first, _again = demo

    def fingerprint(application):
        with application.app_context():
            return (db.session.execute(select(Person.first_name, Person.last_name, Person.phone)
                                       .order_by(Person.id)).all(),
                    db.session.execute(select(CallAttempt.person_id, CallAttempt.outcome, CallAttempt.created_at)
                                       .order_by(CallAttempt.id)).all())

    with time_machine.travel(DAY, tick=False):
        other = make_app(fresh_database_url("demo2"))
        assert other.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
        assert fingerprint(other) == fingerprint(app)
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_demo_accounts_are_enrolled_and_their_keys_printed(demo):
    from tts.auth.models import User
    from tts.demo import DEMO_PASSWORD, demo_totp_secret

    app, first, _again = demo
    assert demo_totp_secret("tracer@tts.example") in first.output
    runner = app.test_cli_runner()
    code = runner.invoke(args=["demo", "code", "tracer@tts.example"])
    assert code.exit_code == 0 and code.output.strip() == pyotp.TOTP(demo_totp_secret("tracer@tts.example")).now()
    client = app.test_client()
    client.post("/login", data={"email": "tracer@tts.example", "password": DEMO_PASSWORD})
    assert client.post("/login/code", data={"code": code.output.strip()}).status_code == 302
    with app.app_context():
        other = db.session.scalar(select(User).where(User.email == "harper@tts.example"))
        other.totp_secret = pyotp.random_base32()  # a colleague enrolled their own authenticator
        db.session.commit()
        secret = other.totp_secret
    refused = runner.invoke(args=["demo", "code", "harper@tts.example"])
    assert refused.exit_code == 1 and secret not in refused.output


def test_demo_data_is_refused_outside_development_and_testing(app, monkeypatch):
    """Its accounts' password and authenticator keys are published: a production server must never have them."""
    monkeypatch.setitem(app.config, "TTS_ENVIRONMENT", "production")
    runner = app.test_cli_runner()
    for args in (["demo", "load"], ["demo", "code", "tracer@tts.example"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1 and "Refused" in result.output and "development only" in result.output
    with app.app_context():
        from tts.auth.models import User

        assert db.session.scalar(select(User.id).where(User.email == "tracer@tts.example")) is None
