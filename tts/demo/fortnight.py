"""The demo's last fortnight: a council's tracing service played through the app's own services.

Cases arrive in a wave (about 250 over 14 days), tracers work the calling hours through `claim_next` and
`record_attempt` (the planner's engine plays the people who answer or not, on a simulated clock), the
worker's passes send the texts and escalate, a field officer visits the escalated, support is arranged,
texts are delivered, fail or are replied to, some records are closed and a contact becomes a case. Every
row is written by the service a user's click would call, so every invariant (the queue, the audit chain,
households) holds. One seed gives the same fortnight every time, relative to today.
"""
import random
from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import select

from tts.clock import london_midnight, simulated_clock, to_london, today, utcnow
from tts.extensions import db
from tts.transaction import commit_step

SEED = 2026
RESERVED = ("+447700900101", "+447700900102", "+447700900201", "+447700900990", "+447700900999")
DAYS = 14
# Positive cases arriving each day, oldest first: a wave that peaked in the middle of the fortnight.
WAVE = (9, 11, 13, 16, 19, 22, 24, 25, 24, 22, 20, 18, 16, 14)
CONTACTS_PER_CASE = 2.6
FIRST_NAMES = ["Adaeze", "Bryony", "Callum", "Dilys", "Eamon", "Farah", "Gethin", "Hana", "Idris", "Jolene",
               "Kwame", "Lowri", "Mateusz", "Niamh", "Oluwaseun", "Perrin", "Rhiannon", "Saoirse", "Tomasz",
               "Ulla", "Vikram", "Winifred", "Yusuf", "Zofia", "Ashok", "Blessing", "Ciaran", "Delyth"]
LAST_NAMES = ["Abernethy", "Blackwood", "Carrow", "Dalrymple", "Ellery", "Fothergill", "Gaskell", "Hebblethwaite",
              "Illingworth", "Jowett", "Kilner", "Lockwood", "Mellor", "Nowakowska", "Okonkwo-Reid", "Pashley",
              "Quarshie", "Rawnsley", "Sowerby", "Tattersall", "Umerah", "Vasquez-Hale", "Wragg", "Youdan"]
STREETS = ["Fictional Row", "Sample Street", "Example Lane", "Pretend Place", "Imaginary Road", "Model Terrace",
           "Invented Avenue", "Placeholder Close"]
DISTRICTS = ["S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9", "S10", "S11", "S12", "S13", "S14", "S17", "S20",
             "S35", "S36"]
LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
REPLIES = ["Can you ring after 5 please, I'm at work", "Is this about my test? Who is this?",
           "I've already had a call, thanks", "My phone was off, please try again"]
NOTES = ["Prefers calls after 5pm: works early shifts.", "Interpreter may help: daughter translated on the call.",
         "Asked for the isolation payment form to be posted."]


def staff_tracers() -> list[tuple[str, str]]:
    """The demo's other tracers (who work the fortnight beside the demo tracer; no printed login)."""
    return [("harper@tts.example", "Harper Lindqvist"), ("jonah@tts.example", "Jonah Penrose"),
            ("maya@tts.example", "Maya Oduya")]


def load(tracers: list, supervisor, field_officer, *, seed: int = SEED, end: datetime | None = None) -> dict:
    """Play the fortnight up to `end` (now): returns what it made, for the command's summary."""
    from tts.simulation.engine import World, play
    from tts.simulation.params import Params

    end = end or utcnow()
    rng = random.Random(seed)
    # For a quicker load than the planner's: the worker passes every 90 minutes (15 in production) and runs
    # its long jobs (the KPI figures) once at the end; idle tracers look for work every 20 minutes; the
    # session commits every 10 simulated minutes. The outcomes are the same kinds, a little coarser in time.
    world = World(rng=rng, params=Params(worker_every_minutes=90.0, idle_poll_minutes=20.0,
                                         language_barrier_share=0.02), name=_name,
                  address=_address, arrive=_arrive(supervisor), slow_jobs=False,
                  commit_every=timedelta(minutes=10))
    first_day = today() - timedelta(days=DAYS - 1)
    start = london_midnight(first_day)
    # Numbers the demo's own people use (today's cases, staff phones, the unknown texter) are never dealt out.
    world.mobile_holder.update({number: -1 for number in RESERVED})
    day_extras = _Extras(rng, tracers, supervisor, field_officer)
    with simulated_clock(start) as clock:
        arrivals, hooks = [], []
        for d, count in enumerate(WAVE):
            day = first_day + timedelta(days=d)
            arrivals += sorted(_at(day, rng.uniform(7, 21)) for _ in range(count))
            hooks += [(_at(day, 8), day_extras.shift_on), (_at(day, 11.5), day_extras.visits),
                      (_at(day, 16), day_extras.support), (_at(day, 18), day_extras.texts),
                      (_at(day, 20), day_extras.shift_off)]
        arrivals = [a for a in arrivals if a < end]
        hooks = [(at, fn) for at, fn in hooks if at < end]
        play(world, clock, tracers, arrivals, start, end, CONTACTS_PER_CASE, first_day=first_day, hooks=hooks)
        day_extras.finish(first_day)
        commit_step("the fortnight is saved before the worker's long jobs read it")
    from tts.worker import run_slow_jobs

    run_slow_jobs()  # the KPI figures and the day's completions, now
    return {"cases": len(arrivals), "people": world.people, "calls": world.calls}


def _at(day: date, hour: float) -> datetime:
    from tts.simulation.engine import _london

    return _london(day, hour)


def _name(world) -> tuple[str, str]:
    return world.rng.choice(FIRST_NAMES), world.rng.choice(LAST_NAMES)


def _address(world) -> tuple[str, str]:
    rng = world.rng
    return (f"{rng.randint(1, 180)} {rng.choice(STREETS)}, Sheffield",
            f"{rng.choice(DISTRICTS)} {rng.randint(1, 9)}{rng.choice(LETTERS)}{rng.choice(LETTERS)}")


def _arrive(supervisor) -> Callable:
    """A positive result arrives: logged by the team (the supervisor), tested yesterday, some with symptoms."""
    def arrive(world, at: datetime) -> None:
        from tts.cases.services import create_case
        from tts.simulation.engine import _hold, _person

        rng = world.rng
        address, postcode = _address(world)
        data = _person(world, address=address, postcode=postcode)
        tested = to_london(at).date() - timedelta(days=rng.choice((0, 1, 1, 1, 2)))
        onset = tested - timedelta(days=rng.randint(0, 3)) if rng.random() < 0.7 else None
        case = create_case(supervisor, data, test_date=tested, symptom_onset_date=onset, new_episode=True)
        _hold(world, case.person)
        world.new_work = True
    return arrive


class _Extras:
    """What the rest of the team does each day, through the same services as their pages."""

    def __init__(self, rng: random.Random, tracers: list, supervisor, field_officer):
        self.rng, self.tracers, self.supervisor, self.field = rng, tracers, supervisor, field_officer
        self.replied = 0

    def shift_on(self) -> None:
        from tts.supervision.services import set_shift

        for user in self.tracers:
            set_shift(user, True)

    def shift_off(self) -> None:
        from tts.supervision.services import set_shift

        for user in self.tracers:
            set_shift(user, False)

    def visits(self) -> None:
        """Morning: yesterday's doorstep visits are made, and today's escalations are given to the officer."""
        from tts.escalation.models import VISIT_OUTCOMES, Escalation
        from tts.escalation.services import assign_visit, close_escalation, record_visit

        now = utcnow()
        outcomes, weights = list(VISIT_OUTCOMES), [60, 25, 6, 5, 4]
        for escalation in db.session.scalars(select(Escalation).where(
                Escalation.status == "assigned", Escalation.created_at < now - timedelta(hours=20))
                .order_by(Escalation.id)):
            record_visit(self.field, escalation, outcome=self.rng.choices(outcomes, weights)[0],
                         notes="Card left with the team's number" if self.rng.random() < 0.3 else None)
        for escalation in db.session.scalars(select(Escalation).where(Escalation.status == "visited")
                                             .order_by(Escalation.id)):
            close_escalation(self.supervisor, escalation, "Visited: nothing more the team can do")
        for escalation in db.session.scalars(select(Escalation).where(Escalation.status == "open")
                                             .order_by(Escalation.id)):
            if self.rng.random() < 0.85:  # a few are left for the supervisor to place
                assign_visit(self.supervisor, escalation, self.field)

    def support(self) -> None:
        """Afternoon: some people reached today need help to isolate; older requests move on."""
        from tts.callqueue.models import CallAttempt
        from tts.support.models import SupportKind, SupportNeed
        from tts.support.services import create_support_need, update_support_need

        now = utcnow()
        for need in db.session.scalars(select(SupportNeed).where(SupportNeed.status.in_(("requested", "referred")),
                                                                 SupportNeed.created_at < now - timedelta(hours=20))
                                       .order_by(SupportNeed.id)):
            if need.status == "requested":
                update_support_need(self.supervisor, need, status="referred",
                                    referred_to=_REFERRAL[need.kind], notify=True)
            elif self.rng.random() < 0.6:
                update_support_need(self.supervisor, need, status=self.rng.choice(("fulfilled", "fulfilled",
                                                                                   "declined")))
        reached = db.session.scalars(select(CallAttempt).where(
            CallAttempt.outcome == "reached", CallAttempt.created_at >= now - timedelta(hours=8))
            .order_by(CallAttempt.id)).all()
        kinds = [k.value for k in SupportKind]
        # The supervisor deals with the alerts of the day before (today's still wait on the dashboard).
        from tts.selfservice.alerts import resolve_alert
        from tts.selfservice.models import TeamAlert

        for alert in db.session.scalars(select(TeamAlert).where(
                TeamAlert.resolved_at.is_(None), TeamAlert.created_at < now - timedelta(hours=12)).order_by(TeamAlert.id)):
            resolve_alert(self.supervisor, alert)
        for attempt in reached:
            if self.rng.random() < 0.12:
                create_support_need(attempt.tracer, attempt.person, kind=self.rng.choice(kinds),
                                    urgency=self.rng.choice(("today", "this_week", "routine")),
                                    notes="Asked for on the call")

    def texts(self) -> None:
        """Evening: delivery receipts for today's texts (most delivered, a few not), and a reply or two."""
        from tts.telephony.models import Message
        from tts.telephony.services import apply_message_status, receive_sms

        now = utcnow()
        sent = db.session.scalars(select(Message).where(Message.direction == "outbound",
                                                        Message.status.in_(("sending", "sent")),
                                                        Message.twilio_sid.is_not(None),
                                                        Message.created_at >= now - timedelta(hours=12))
                                  .order_by(Message.id)).all()
        for message in sent:
            draw = self.rng.random()
            if draw < 0.85:
                apply_message_status(message.twilio_sid, "delivered")
            elif draw < 0.88:
                apply_message_status(message.twilio_sid, "sent")  # some networks never confirm delivery
            elif draw < 0.95:
                apply_message_status(message.twilio_sid, "undelivered", 30003)  # handset unreachable
            elif draw < 0.97:
                apply_message_status(message.twilio_sid, "failed", 30006)  # landline or unreachable carrier
        for message in sent[:2] if self.rng.random() < 0.7 else []:
            self.replied += 1
            receive_sms(sid=f"SMdemoreply{self.replied:023d}", from_number=message.to_number, to_number=None,
                        body=self.rng.choice(REPLIES))
        # Some of today's contacts confirm their advice from the link in their text (reached by text).
        from tts.cases.models import Contact
        from tts.selfservice.links import latest_link
        from tts.selfservice.services import contact_respond

        for contact in db.session.scalars(select(Contact).where(
                Contact.status == "open", Contact.created_at >= now - timedelta(hours=12)).order_by(Contact.id)).all():
            link = latest_link(contact=contact)
            if link is not None and link.is_usable(now) and self.rng.random() < 0.3:
                contact_respond(link, "confirmed")
        # Today's check-ins: most answer 1, a few 2 or 3 (a welfare call, a support need, an alert), some not
        # at all (the missed check-ins list).
        checkins = db.session.scalars(select(Message).where(
            Message.trigger == "checkin", Message.status.in_(("sending", "sent", "delivered")),
            Message.sending_started_at >= now - timedelta(hours=10)).order_by(Message.id)).all()
        for message in checkins:
            draw = self.rng.random()
            answer = "1" if draw < 0.72 else "2" if draw < 0.75 else "3" if draw < 0.78 else None
            if answer:
                self.replied += 1
                receive_sms(sid=f"SMdemoreply{self.replied:023d}", from_number=message.to_number, to_number=None,
                            body=answer)

    def finish(self, first_day: date) -> None:
        """Now: a few closed records, a contact who became a case, notes, and a text nobody recognises."""
        from tts.cases.lifecycle import close
        from tts.cases.models import Case, Contact
        from tts.cases.services import convert_contact
        from tts.people.notes import add_note
        from tts.telephony.services import receive_sms

        open_cases = db.session.scalars(select(Case).where(Case.status.in_(("open", "isolating")))
                                        .order_by(Case.id)).all()
        for case, reason in zip(open_cases[::40], ("moved_away", "duplicate", "refused", "lost_to_follow_up")):
            close(self.supervisor, case, reason=reason)
        for case, note in zip(open_cases[5::37], NOTES):
            add_note(self.supervisor, case.person, note, case=case)
        contact = db.session.scalar(select(Contact).where(Contact.status == "open", Contact.relationship_ ==
                                                          "household").order_by(Contact.id.desc()).limit(1))
        if contact is not None:
            convert_contact(self.supervisor, contact, test_date=today() - timedelta(days=1),
                            symptom_onset_date=today() - timedelta(days=2))
        receive_sms(sid="SMdemo0000000000000000000000000001", from_number="+447700900999", to_number=None,
                    body="Hi, I got a text asking me to isolate but I don't know who this is")


_REFERRAL = {"food": "Food bank", "medicine": "Pharmacy delivery", "isolation_payment": "Isolation payment team",
             "mental_health": "Mental health service", "housing": "Housing team", "other": "Other"}
