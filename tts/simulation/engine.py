"""Simulate tracing days through the app's own services, on a scratch database and a simulated clock.

Nothing here decides who is called next, when a call comes back, or when someone is escalated: cases and
contacts are created with `create_case`/`add_contact`, tracers take work with `claim_next`, keep it with
`extend_claims` (the call screen's heartbeat), record outcomes with `record_attempt`, and the outbox
worker's own `run_once` sends the texts and sweeps overdue first calls. The simulator only plays the
people (who answers, how long calls take) and the clock. Every random draw comes from one seeded
generator, and the work is done in a fixed order, so a seed gives the same figures every time.
"""
import heapq
import math
import random
import shutil
import statistics
import tempfile
import time as wallclock
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import event, func, select

from tts.clock import LONDON, SimulatedClock, simulated_clock, to_london, utcnow
from tts.simulation.params import Params, Scenario

START_DAY = date(2026, 1, 12)  # a Monday; a fixed date keeps runs identical whenever they are made
WORKER_LAG = timedelta(seconds=10)  # the worker polls every few seconds: a new text goes out about this soon
HEARTBEAT = timedelta(minutes=10)  # the call screen sends one a minute; half the 20-minute lease is enough here
# Each event is a request's worth of work. In the app each request commits; here one process and one session
# do everything, so committing once per simulated minute gives the same results with far fewer commits (and
# audit-chain seals). The outbox worker's own steps still commit as they do in production.
COMMIT_EVERY = timedelta(minutes=1)
SIM_PASSWORD = "quartz-meadow-lantern-harbour"  # scratch database only

FIRST_NAMES = ["Ada", "Bram", "Cleo", "Dev", "Edie", "Finn", "Gala", "Huw", "Isla", "Jude", "Kit", "Lior", "Mae",
               "Nico", "Orla", "Pip", "Quin", "Rhea", "Sol", "Tam", "Uma", "Vik", "Wren", "Xan", "Yara", "Zed"]
LAST_NAMES = ["Ashgrove", "Birchall", "Cobbold", "Dunmore", "Eldridge", "Fenwick", "Garside", "Hartley",
              "Inchley", "Jessop", "Kestrel", "Lumley", "Marsden", "Nuttall", "Oakhurst", "Pennock", "Quarmby",
              "Rowbotham", "Staniforth", "Thackeray", "Uttley", "Varley", "Whitlam", "Yeadon"]
# Ofcom's drama ranges only (never a real person's number): 1,000 mobiles and 11,000 city landlines.
MOBILES = [f"+447700900{n:03d}" for n in range(1000)]
LANDLINES = [f"+44{area}4960{n:03d}" for area in ("113", "114", "115", "116", "117", "118", "121", "131", "141",
                                                  "151", "161") for n in range(1000)]


class ScratchDatabaseRefused(Exception):
    """The simulation was pointed at the app's own database."""


@dataclass
class Tracer:
    user_id: int
    busy_minutes: float = 0.0
    busy_by_day: dict[int, float] = field(default_factory=dict)
    pending: list[int] = field(default_factory=list)  # work items on the call in progress, next first
    outcome: str = ""  # what is happening on the call being made
    handed_household: int | None = None  # on this call, someone of this household just answered
    call_started: datetime | None = None


@dataclass
class World:
    """What the simulator knows about the people it plays (never queue state: that lives in the database)."""
    rng: random.Random
    params: Params
    people: int = 0
    reached_households: set[int] = field(default_factory=set)
    mobile_holder: dict[str, int] = field(default_factory=dict)  # number -> person id still being traced
    landline_holder: dict[str, int] = field(default_factory=dict)
    new_work: bool = False  # people were added to the queue (wakes idle tracers, and the worker for texts)
    mobile_next: int = 0
    landline_next: int = 0
    calls: int = 0
    # Hooks for `flask demo load`, which plays a fortnight on the demo database: who arrives and what they
    # are called (the planner's people have numbered surnames, so no two are ever taken for one person).
    arrive: Callable[["World", datetime], None] | None = None
    name: Callable[["World"], tuple[str, str]] | None = None
    address: Callable[["World"], tuple[str, str]] | None = None
    slow_jobs: bool = True  # the worker's pass includes its long jobs (the demo runs them once, at the end)
    commit_every: timedelta = COMMIT_EVERY
    # Self-service: people who will send the form or confirm by text, at a later moment (play() schedules
    # what is put here), and the cases whose form came in (their call is a shorter check).
    self_service: bool = False
    contacts_per_case: float = 3.0
    later: list[tuple[datetime, str, int]] = field(default_factory=list)
    completed_online: set[int] = field(default_factory=set)


def run(scenario: Scenario, *, database_url: str | None = None, live_database_url: str | None = None,
        progress: Callable[[float], None] | None = None, make_app: Callable | None = None) -> dict:
    """Simulate the scenario on a scratch database (a temporary SQLite file unless `database_url` is
    given) and return its figures. Refuses the app's own database (`live_database_url`). The scratch app
    is built by `make_app` (tts.create_app), by default the running app's own factory: the planner is a
    feature, and imports nothing above it."""
    import flask_migrate
    from flask import current_app

    from tts.extensions import db

    create_app = make_app or current_app.extensions["tts.create_app"]

    scratch_dir = None
    if database_url is None:
        scratch_dir = tempfile.mkdtemp(prefix="tts-simulation-")
        database_url = f"sqlite:///{scratch_dir}/simulation.db"
    if live_database_url and _same_database(database_url, live_database_url):
        raise ScratchDatabaseRefused("the simulation never runs on the app's own database: give it a scratch one")
    started = wallclock.perf_counter()
    app = create_app("development", SQLALCHEMY_DATABASE_URI=database_url, TWILIO_ACCOUNT_SID=None,
                     TTS_QUEUE_POLICY=scenario.policy,
                     TTS_MAX_COMPANIONS=5 if scenario.household_calls else 0,
                     TTS_DASHBOARD_CACHE_SECONDS=0, TTS_KPI_CACHE_SECONDS=0, TTS_SIMULATED_GATEWAY_LATENCY_MS=0,
                     TTS_CALLING_HOURS=f"{scenario.params.shift_start_hour:02d}:00-"
                                       f"{scenario.params.shift_end_hour:02d}:00",
                     PASSWORD_HASH_METHOD="pbkdf2:sha256:1000", SQLALCHEMY_ECHO=False,
                     # Delivery receipts are not simulated (a sent text counts as sent), so the reconciler,
                     # which looks up texts Twilio never confirmed, has nothing to learn: it is left idle.
                     TTS_RECONCILE_AFTER_MINUTES=60 * 24 * 365,
                     # Simulated people never reply to texts nor open links unless the scenario says they do
                     # (self-service): without that, check-ins would all go unanswered and turn into calls.
                     TTS_CHECKIN_DAYS="", TTS_SELF_SERVICE=scenario.self_service,
                     TTS_SELF_SERVICE_HOLD_HOURS=scenario.hold_hours if scenario.self_service else 0,
                     TTS_SIMULATION_SCRATCH=True)
    try:
        with app.app_context():
            flask_migrate.upgrade(directory=_migrations_dir(), revision="heads")
            if db.engine.dialect.name == "sqlite":
                def _fast(dbapi_connection, _record):  # a scratch file: durability does not matter, speed does
                    dbapi_connection.execute("PRAGMA synchronous=OFF")
                    dbapi_connection.execute("PRAGMA journal_mode=MEMORY")

                event.listen(db.engine, "connect", _fast)
                db.session.remove()
                db.engine.dispose()
            # One process and one session write the scratch database, so what the session holds after a
            # commit is what the database holds: no need to reload every object (this session only; the
            # app's own sessions are untouched).
            db.session().expire_on_commit = False
            figures = _simulate(scenario, progress)
            db.session.remove()
            db.engine.dispose()
    finally:
        if scratch_dir:
            shutil.rmtree(scratch_dir, ignore_errors=True)
    figures["run"] = {"seconds": round(wallclock.perf_counter() - started, 1),
                      "database": "scratch SQLite file" if scratch_dir else "given scratch database"}
    return figures


def _same_database(a: str, b: str) -> bool:
    from sqlalchemy.engine import make_url

    ua, ub = make_url(a), make_url(b)
    return (ua.get_backend_name(), ua.host, ua.port, ua.database) == (ub.get_backend_name(), ub.host, ub.port,
                                                                       ub.database)


def _migrations_dir() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parents[2] / "migrations")


def _schedule_call(schedule, nxt: str, when: datetime, at: datetime, index: int, versions: list[int]) -> None:
    if nxt == "free":
        versions[index] += 1
        schedule(when, "tracer", (index, versions[index]))
        return
    schedule(when, "call_end", index)
    beat = at + HEARTBEAT  # the open call screen's heartbeat keeps the claim alive during a long call
    while beat < when:
        schedule(beat, "beat", index)
        beat += HEARTBEAT


def _london(day: date, hour: float) -> datetime:
    whole = int(hour)
    minutes = round((hour - whole) * 60, 6)
    return (datetime.combine(day, time(whole, 0), tzinfo=LONDON) + timedelta(minutes=minutes)).astimezone(UTC)


def _simulate(scenario: Scenario, progress: Callable[[float], None] | None) -> dict:
    from tts.auth.services import create_user
    from tts.extensions import db
    from tts.telephony.models import MessageTemplate

    params = scenario.params
    rng = random.Random(scenario.seed)
    world = World(rng=rng, params=params, self_service=scenario.self_service,
                  contacts_per_case=scenario.contacts_per_case)
    start = _london(START_DAY, 0)
    end = _london(START_DAY + timedelta(days=scenario.days + params.tail_days), 0)

    with simulated_clock(start) as clock:
        if not scenario.presms:
            for template in db.session.scalars(select(MessageTemplate).where(
                    MessageTemplate.trigger.in_(("introduction", "contact_advice")))):
                template.is_enabled = False
        tracers = []
        for n in range(scenario.tracers):
            user = create_user(None, email=f"sim.tracer{n + 1}@simulation.example", name=f"Simulated tracer {n + 1}",
                               role="tracer", password=SIM_PASSWORD)
            tracers.append(user)
        db.session.commit()
        arrivals = []
        for d in range(scenario.days):
            day = START_DAY + timedelta(days=d)
            arrivals += [_london(day, hour) for hour in sorted(
                rng.uniform(params.arrivals_from_hour, params.arrivals_to_hour) for _ in range(scenario.cases_per_day))]
        staff = play(world, clock, tracers, arrivals, start, end, scenario.contacts_per_case, progress)
        figures = _figures(scenario, world, staff, start)
    if progress is not None:
        progress(1.0)
    return figures


def play(world: World, clock: SimulatedClock, tracers: list, arrivals: list[datetime], start: datetime,
         end: datetime, contacts_per_case: float, progress: Callable[[float], None] | None = None,
         first_day: date = START_DAY, hooks: list[tuple[datetime, Callable[[], None]]] = ()) -> list[Tracer]:
    """Play the people and the clock from `start` to `end`: cases arrive at `arrivals`, `tracers` (users)
    work the calling hours through the app's services, and the worker runs its passes. Returns each tracer's
    time on calls. `hooks` are called at their times (the demo's other staff at work). Used by the planner
    (on a scratch database) and by `flask demo load` (the demo fortnight)."""
    from tts.extensions import db

    params = world.params
    staff = [Tracer(user_id=u.id) for u in tracers]
    events: list[tuple[datetime, int, str, int]] = []
    seq = 0

    def schedule(at: datetime, kind: str, index) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (at, seq, kind, index))

    for at in arrivals:
        schedule(at, "arrival", 0)
    for at, hook in hooks:
        schedule(at, "hook", hook)
    for index in range(len(staff)):
        schedule(_london(first_day, params.shift_start_hour) + timedelta(seconds=index), "tracer", (index, 0))
    schedule(start, "sweep", 0)
    idle: dict[int, int] = {}  # tracer -> the version of its pending wake-up (older ones are ignored)
    versions = [0] * len(staff)
    worker_due = False

    def wake_idle(at: datetime) -> None:
        for i in sorted(idle):
            versions[i] += 1
            schedule(at, "tracer", (i, versions[i]))
        idle.clear()

    total = (end - start).total_seconds()
    last_report = -1.0
    last_commit = start
    while events:
        at, _, kind, payload = heapq.heappop(events)
        if at >= end:
            break
        if at - last_commit >= world.commit_every:
            db.session.commit()  # with the clock still at the last event's time
            last_commit = at
        clock.set(at)
        if kind == "arrival":
            (world.arrive or _arrive)(world, at)
        elif kind == "hook":
            payload()
        elif kind == "self_complete":
            _self_complete(world, payload, at)
        elif kind == "confirm":
            _confirm_by_text(world, payload)
        elif kind == "sweep":  # the worker's regular pass (the escalation sweep among it)
            _worker_pass(world.slow_jobs)
            schedule(at + timedelta(minutes=params.worker_every_minutes), "sweep", 0)
        elif kind == "worker":  # new texts are picked up within seconds of being queued
            worker_due = False
            _deliver_texts()
        elif kind == "beat":
            _heartbeat(tracers[payload])
        elif kind == "tracer":
            index, version = payload
            if version != versions[index]:
                continue  # woken earlier by new work
            idle.pop(index, None)
            nxt, when = _start_turn(world, staff[index], tracers[index], at)
            if nxt == "idle":
                idle[index] = versions[index]
                schedule(when, "tracer", (index, versions[index]))
            else:
                _schedule_call(schedule, nxt, when, at, index, versions)
        else:
            nxt, when = _end_call(world, staff[index := payload], tracers[payload], at, contacts_per_case,
                                  first_day)
            _schedule_call(schedule, nxt, when, at, index, versions)
        while world.later:
            schedule(*world.later.pop())
        if world.new_work:
            world.new_work = False
            if not worker_due:
                worker_due = True
                schedule(at + WORKER_LAG, "worker", 0)
            wake_idle(at + WORKER_LAG + timedelta(seconds=1))
        if progress is not None:
            done = (at - start).total_seconds() / total
            if done - last_report >= 0.01:
                last_report = done
                progress(done)
    clock.set(end)
    db.session.commit()
    return staff


# --- The people ---------------------------------------------------------------------------------------------


def _phone(world: World) -> str | None:
    p, rng = world.params, world.rng
    draw = rng.random()
    if draw < p.no_phone_share:
        return None
    if draw < p.no_phone_share + p.mobile_share:
        return _free_number(world, MOBILES, world.mobile_holder, "mobile_next")
    return _free_number(world, LANDLINES, world.landline_holder, "landline_next")


def _free_number(world: World, pool: list[str], holders: dict[str, int], cursor: str) -> str | None:
    """The next drama-range number nobody still being traced holds (so unrelated people never share one)."""
    start = getattr(world, cursor)
    for step in range(len(pool)):
        number = pool[(start + step) % len(pool)]
        if number not in holders:
            setattr(world, cursor, (start + step + 1) % len(pool))
            return number
    # Every number is held (long runs): reuse the one handed out longest ago, most likely long finished with.
    setattr(world, cursor, (start + 1) % len(pool))
    holders.pop(pool[start], None)
    return pool[start]


def _person(world: World, *, address: str | None, postcode: str | None, adult: bool = True):
    from tts.people.validation import PersonData

    rng = world.rng
    world.people += 1
    age = rng.randint(18, 85) if adult else rng.randint(1, 17)
    born = date(START_DAY.year - age, rng.randint(1, 12), rng.randint(1, 28))
    first, last = world.name(world) if world.name else (rng.choice(FIRST_NAMES),
                                                        f"{rng.choice(LAST_NAMES)}-{world.people}")
    return PersonData(first_name=first, last_name=last,
                      date_of_birth=born, phone=_phone(world), address=address, postcode=postcode)


def _address(world: World) -> tuple[str, str]:
    if world.address:
        return world.address(world)
    rng = world.rng
    district = rng.randint(1, 20)
    return (f"{rng.randint(1, 200)} Simulation Road, Sheffield",
            f"S{district} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}")


def _hold(world: World, person) -> None:
    if person.phone in MOBILES:
        world.mobile_holder[person.phone] = person.id
    elif person.phone:
        world.landline_holder[person.phone] = person.id


def _release(world: World, person) -> None:
    for holders in (world.mobile_holder, world.landline_holder):
        if holders.get(person.phone) == person.id:
            del holders[person.phone]


def _arrive(world: World, at: datetime) -> None:
    from tts.cases.services import create_case

    address, postcode = _address(world)
    data = _person(world, address=address, postcode=postcode)
    case = create_case(None, data, test_date=to_london(at).date() - timedelta(days=1), symptom_onset_date=None,
                       new_episode=True)  # simulated people are new each time
    _hold(world, case.person)
    world.new_work = True
    p = world.params
    if world.self_service and case.person.phone in MOBILES and world.rng.random() < p.self_service_uptake:
        world.later.append((at + timedelta(hours=_minutes(world.rng, p.self_service_delay_hours)), "self_complete",
                            case.id))


def _maybe_confirm(world: World, contact, at: datetime) -> None:
    """A contact whose advice text went may confirm it from their link, a while later."""
    p = world.params
    if world.self_service and contact.person.phone in MOBILES and world.rng.random() < p.text_confirm_share:
        world.later.append((at + timedelta(hours=_minutes(world.rng, p.text_confirm_delay_hours)), "confirm",
                            contact.id))


def _named_people(world: World, contacts_per_case: float) -> tuple[int, int]:
    """How many people a case names: their household (from the household sizes) and other close contacts."""
    p, rng = world.params, world.rng
    size = rng.choices(range(1, len(p.household_size_shares) + 1), weights=p.household_size_shares)[0]
    expected_household = sum((i) * w for i, w in enumerate(p.household_size_shares))
    others_mean = max(contacts_per_case - expected_household, 0.0)
    return size - 1, min(_poisson(rng, others_mean), p.max_other_contacts)


def _self_complete(world: World, case_id: int, at: datetime) -> None:
    """A case sends the online form (through the app's own services, as the pages do), if they have not
    been reached by a call first and their link still works."""
    from tts.cases.models import Case
    from tts.errors import ValidationFailed
    from tts.extensions import db
    from tts.selfservice.links import latest_link
    from tts.selfservice.services import complete_case_form, save_answers

    case = db.session.get(Case, case_id)
    link = latest_link(case=case) if case is not None and case.status == "open" else None
    if link is None or not link.is_usable(at):
        return
    household, others = _named_people(world, world.contacts_per_case)
    exposed = (to_london(case.created_at).date() - timedelta(days=1)).isoformat()

    def entry(adult: bool, with_address: bool) -> dict:
        address, postcode = _address(world) if with_address else (None, None)
        data = _person(world, address=address, postcode=postcode, adult=adult)
        return {"first_name": data.first_name, "last_name": data.last_name, "phone": data.phone,
                "last_contact": exposed}

    answers = {"symptoms": "no", "household": [entry(n == 0 or world.rng.random() < 0.5, False) for n in range(household)],
               "contacts": [entry(True, True) for _ in range(others)], "support": []}
    known = {c.id for c in case.contacts}
    try:
        with db.session.begin_nested():
            save_answers(link, **answers)
            complete_case_form(link, now=at)
    except ValidationFailed:
        return  # (a simulated answer the rules refuse: they wait for their call instead)
    world.completed_online.add(case.id)
    db.session.refresh(case)
    for contact in case.contacts:
        if contact.id not in known:
            _hold(world, contact.person)
            _maybe_confirm(world, contact, at)
    world.new_work = True


def _confirm_by_text(world: World, contact_id: int) -> None:
    from tts.cases.models import Contact
    from tts.extensions import db
    from tts.selfservice.links import latest_link
    from tts.selfservice.services import contact_respond

    contact = db.session.get(Contact, contact_id)
    link = latest_link(contact=contact) if contact is not None and contact.status == "open" else None
    if link is None or not link.is_usable(utcnow()):
        return
    contact_respond(link, "confirmed")


def _elicit_contacts(world: World, tracer_user, case, contacts_per_case: float) -> None:
    """The case was reached: the interview names their household and other close contacts."""
    from tts.cases.services import add_contact

    rng = world.rng
    household, others = _named_people(world, contacts_per_case)
    exposed = to_london(case.created_at).date() - timedelta(days=1)
    world.new_work = world.new_work or household + others > 0
    for n in range(household):
        data = _person(world, address=None, postcode=None, adult=n == 0 or rng.random() < 0.5)
        contact = add_contact(tracer_user, case, data, relationship="household", last_exposure_date=exposed)
        _hold(world, contact.person)
        _maybe_confirm(world, contact, contact.created_at)
    for _ in range(others):
        address, postcode = _address(world)
        contact = add_contact(tracer_user, case, _person(world, address=address, postcode=postcode),
                              relationship="close", last_exposure_date=exposed)
        _hold(world, contact.person)
        _maybe_confirm(world, contact, contact.created_at)


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


# --- The calls --------------------------------------------------------------------------------------------


def _answer_chance(world: World, item, at: datetime) -> float:
    from tts.extensions import db
    from tts.telephony.models import Message

    p = world.params
    chance = p.answer_by_attempt[min(item.attempts, len(p.answer_by_attempt) - 1)]
    hour, factor = to_london(at).hour, 1.0
    for from_hour, multiplier in p.answer_by_hour:
        if hour >= from_hour:
            factor = multiplier
    chance *= factor
    texted = db.session.scalar(select(func.count()).select_from(Message).where(
        Message.person_id == item.person_id, Message.trigger.in_(("introduction", "contact_advice")),
        Message.twilio_sid.is_not(None),
        Message.status.in_(("queued", "sending", "sent", "delivered")), Message.created_at <= at))
    if texted:
        chance *= p.presms_multiplier
    if item.person.household_id is not None and item.person.household_id in world.reached_households:
        chance *= p.household_reached_multiplier
    return min(chance, p.max_answer)


def _minutes(rng: random.Random, median_sigma: tuple[float, float]) -> float:
    median, sigma = median_sigma
    return median * math.exp(rng.gauss(0.0, sigma))


def _start_turn(world: World, tracer: Tracer, user, at: datetime) -> tuple[str, datetime]:
    """A tracer is free at `at`: take the next call (with anyone claimed onto the same call) and dial the
    first person. Returns the next event for this tracer: ("call_end", when) or ("free", when)."""
    from tts.callqueue.models import ItemStatus, WorkItem
    from tts.callqueue.services import claim_next
    from tts.extensions import db

    p = world.params
    local = to_london(at)
    if not p.shift_start_hour <= local.hour < p.shift_end_hour:
        day = local.date() if local.hour < p.shift_start_hour else local.date() + timedelta(days=1)
        return "free", _london(day, p.shift_start_hour)
    claim = claim_next(user)
    if claim is None:
        # Nothing to call: wait for new work (the simulator wakes idle tracers when people are added), for
        # the next queued item to fall due, or an hour, whichever is first.
        due = db.session.scalar(select(func.min(WorkItem.due_at)).where(
            WorkItem.status == ItemStatus.OPEN, WorkItem.due_at > at))
        wake = at + timedelta(minutes=p.idle_recheck_minutes)
        if due is not None:
            wake = min(wake, max(_utc(due), at + timedelta(minutes=p.idle_poll_minutes)))
        return "idle", wake
    tracer.pending = [item.id for item in [claim.item, *claim.also_claimed]]
    tracer.handed_household = None
    tracer.call_started = at
    return "call_end", _dial(world, tracer, at)


def _dial(world: World, tracer: Tracer, at: datetime) -> datetime:
    """Play the person on the next pending call: what happens and how long it takes."""
    from tts.callqueue.models import ItemKind, WorkItem
    from tts.extensions import db

    p, rng = world.params, world.rng
    item = db.session.get(WorkItem, tracer.pending[0])
    # On the line already: the household member who just answered hands them the phone (no wrong number).
    handed = tracer.handed_household is not None and item.person.household_id == tracer.handed_household
    chance = p.handed_phone_answer if handed else _answer_chance(world, item, at)
    if not handed and rng.random() < p.wrong_number_share:
        outcome, minutes = "wrong_number", _minutes(rng, p.minutes_unanswered)
    elif rng.random() < chance:
        draw = rng.random()
        outcome = ("callback_requested" if draw < p.callback_share else
                   "refused" if draw < p.callback_share + p.refused_share else "reached")
        if outcome == "reached" and p.language_barrier_share and rng.random() < p.language_barrier_share:
            outcome = "language_barrier"
        is_case = item.case_id is not None and item.kind == ItemKind.INITIAL_CALL
        if is_case and outcome == "reached":  # a case who sent the online form gets the shorter check call
            minutes = _minutes(rng, p.minutes_check_call if item.case_id in world.completed_online
                               else p.minutes_reached_case)
        else:
            minutes = _minutes(rng, p.minutes_reached_contact)
    else:
        draw = rng.random()
        outcome = ("voicemail" if draw < p.voicemail_share else
                   "busy" if draw < p.voicemail_share + p.busy_share else "no_answer")
        minutes = _minutes(rng, p.minutes_voicemail if outcome == "voicemail" else p.minutes_unanswered)
    tracer.outcome = outcome
    return at + timedelta(minutes=minutes + p.minutes_wrap_up)


def _end_call(world: World, tracer: Tracer, user, at: datetime, contacts_per_case: float,
              first_day: date = START_DAY) -> tuple[str, datetime]:
    """The call ends: record it through the app, then dial the next person on the same claim, if any."""
    from tts.callqueue.models import ItemKind, ItemStatus, WorkItem
    from tts.callqueue.outcomes import record_attempt
    from tts.callqueue.services import extend_claims
    from tts.extensions import db

    p = world.params
    item = db.session.get(WorkItem, tracer.pending.pop(0))
    outcome = tracer.outcome
    extend_claims(user)  # the call screen's heartbeat kept the claim alive during the call
    callback_at = at + timedelta(hours=p.callback_after_hours) if outcome == "callback_requested" else None
    language = world.rng.choice(("Polish", "Urdu", "Arabic", "Slovak")) if outcome == "language_barrier" else None
    result = record_attempt(user, item, outcome=outcome, callback_at=callback_at, language=language,
                            claim_token=item.claim_token)
    world.calls += 1
    if outcome == "reached":
        if item.person.household_id is not None:
            world.reached_households.add(item.person.household_id)
            tracer.handed_household = item.person.household_id
        if (item.case_id is not None and item.kind == ItemKind.INITIAL_CALL
                and item.case_id not in world.completed_online):  # online, they named them already
            _elicit_contacts(world, user, item.case, contacts_per_case)
    if result.new_item is not None:
        world.new_work = True
    if result.item.status in (ItemStatus.DONE, ItemStatus.ESCALATED) and outcome != "callback_requested":
        _release(world, item.person)
    if tracer.pending:
        return "call_end", _dial(world, tracer, at)
    # Time on calls, counted inside the shift only (a call that runs past the end of the day is overtime).
    day = to_london(tracer.call_started).date()
    shift_end = _london(day, p.shift_end_hour)
    spent = max((min(at, shift_end) - tracer.call_started).total_seconds() / 60, 0.0)
    tracer.busy_minutes += spent
    day_index = (day - first_day).days
    tracer.busy_by_day[day_index] = tracer.busy_by_day.get(day_index, 0.0) + spent
    return "free", at


def _heartbeat(user) -> None:
    from tts.callqueue.services import extend_claims

    extend_claims(user)


def _worker_pass(slow: bool = True) -> None:
    from tts.worker import run_once

    run_once(slow)  # the outbox worker's own pass: texts out, overdue first calls to the local team


def _deliver_texts() -> None:
    """The worker's pass seconds after texts were queued: its delivery step (the scanners in it run on the
    regular pass; running them every few simulated seconds changes nothing but the run time)."""
    from tts.telephony.services import deliver_due

    deliver_due()  # a job: its own transaction


# --- The figures ------------------------------------------------------------------------------------------


def _figures(scenario: Scenario, world: World, staff: list[Tracer], start: datetime) -> dict:
    from tts.callqueue.models import CallAttempt, ItemKind, WorkItem
    from tts.cases.models import Contact
    from tts.escalation.models import Escalation
    from tts.extensions import db

    p = scenario.params
    first_items = db.session.execute(
        select(WorkItem.person_id, func.min(WorkItem.created_at), func.max(WorkItem.case_id),
               func.max(Contact.relationship_))
        .outerjoin(Contact, Contact.id == WorkItem.contact_id)
        .where(WorkItem.kind == ItemKind.INITIAL_CALL).group_by(WorkItem.person_id).order_by(WorkItem.person_id)).all()
    reached_at = dict(db.session.execute(
        select(CallAttempt.person_id, func.min(CallAttempt.created_at)).where(CallAttempt.outcome == "reached")
        .group_by(CallAttempt.person_id)).all())
    # Contacts who confirmed their advice by text are reached then (self-service on): by whichever came first.
    from tts.selfservice.models import SelfServiceLink

    by_text = dict(db.session.execute(
        select(SelfServiceLink.person_id, func.min(SelfServiceLink.completed_at))
        .where(SelfServiceLink.response == "confirmed").group_by(SelfServiceLink.person_id)).all())
    online = set(db.session.scalars(select(SelfServiceLink.person_id).where(
        SelfServiceLink.case_id.is_not(None), SelfServiceLink.status == "completed")))
    attempts = db.session.scalar(select(func.count()).select_from(CallAttempt))
    escalations = db.session.scalar(select(func.count()).select_from(Escalation))
    by_reason = dict(db.session.execute(select(Escalation.reason, func.count()).group_by(Escalation.reason)
                                        .order_by(Escalation.reason)).all())

    groups: dict[str, list[float | None]] = {"cases": [], "contacts": [], "household_contacts": [],
                                             "other_contacts": []}
    text_counts = {"contacts": 0, "household_contacts": 0, "other_contacts": 0}
    online_cases = 0
    for person_id, created, case_id, relationship in first_items:
        hours = None
        moments = [_utc(t) for t in (reached_at.get(person_id), by_text.get(person_id) if case_id is None else None)
                   if t is not None]
        if moments:
            hours = (min(moments) - _utc(created)).total_seconds() / 3600
        if case_id is not None:
            groups["cases"].append(hours)
            online_cases += person_id in online
        else:
            names = ("contacts", "household_contacts" if relationship == "household" else "other_contacts")
            for name in names:
                groups[name].append(hours)
                text_counts[name] += person_id in by_text

    def share(values, within=None):
        if not values:
            return None
        hit = [v for v in values if v is not None and (within is None or v <= within)]
        return round(len(hit) / len(values), 4)

    results = {}
    for name, values in groups.items():
        reached = sorted(v for v in values if v is not None)
        results[name] = {
            "people": len(values), "reached": share(values), "reached_within_24h": share(values, 24.0),
            "reached_within_48h": share(values, 48.0),
            "median_hours_to_reach": round(statistics.median(reached), 2) if reached else None,
        }
        if name in text_counts:  # reached counts a call, a visit or a text confirmation; this, the texts
            results[name]["confirmed_by_text"] = round(text_counts[name] / len(values), 4) if values else None
    results["cases"]["completed_online"] = (round(online_cases / len(groups["cases"]), 4)
                                            if groups["cases"] else None)
    shift_minutes = (p.shift_end_hour - p.shift_start_hour) * 60
    busy_arrival_days = sum(t.busy_by_day.get(d, 0.0) for t in staff for d in range(scenario.days))
    on_shift = shift_minutes * len(staff) * scenario.days
    reached_people = sum(1 for v in reached_at)
    results["escalations"] = escalations
    results["escalations_by_reason"] = by_reason
    results["doorstep_visits_needed"] = escalations
    results["tracer_utilisation"] = round(busy_arrival_days / on_shift, 4) if on_shift else None
    results["tracer_idle_hours"] = round((on_shift - busy_arrival_days) / 60, 1)
    results["tracer_hours_on_calls"] = round(sum(t.busy_minutes for t in staff) / 60, 1)
    results["calls"] = attempts
    results["calls_per_reach"] = round(attempts / reached_people, 3) if reached_people else None

    horizon = 24 * (scenario.days + p.tail_days)
    curves = {name: [share(values, float(h)) or 0.0 for h in range(0, min(horizon, 72) + 1)]
              for name, values in groups.items() if values}
    per_day = [{"day": d + 1, "utilisation": round(sum(t.busy_by_day.get(d, 0.0) for t in staff)
                                                   / (shift_minutes * len(staff)), 4)}
               for d in range(scenario.days + p.tail_days)]
    return {"scenario": scenario.describe(), "params": p.as_dict(), "results": results,
            "reach_curves_hours": curves, "per_day": per_day}


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
