"""Benchmark data: fictional cases, contacts, households, call work, texts and audit events, loaded in bulk.

    .venv/bin/python bench/generate.py --preset council|city-peak|national-peak [--database-url URL] [--seed 1]

Without --database-url a fresh PostgreSQL database `tts_bench_<preset>` is created (dropped first if it
exists) on --server, migrated, and loaded; its URL is printed last. PostgreSQL loads with COPY; a
SQLite URL works too (batched INSERTs; small presets only).

Presets (issue 8):
- council:        2,000 cases and 6,000 contacts over the last 14 days
- city-peak:      20,000 cases and 70,000 contacts over the last 14 days
- national-peak:  55,000 cases and 105,000 contacts created today (England's worst week of winter
                  2020/21, averaged over its days), on top of 1,000,000 earlier contacts (and their cases)
                  over the 28 days before, with their call attempts, texts and audit events.

Shape: households of 1 to 6 (the case and up to five household contacts at one address), 0 to 10
other contacts per case, several attempts per person, postcodes over 30 districts, drama-range phones.
Everything older than today is worked (reached, or escalated after three failed attempts); today's work
is part done, part waiting in the queue, as on a real peak day.
"""
import argparse
import hashlib
import json
import random
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time as dtime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PRESETS = {
    "council": {"cases": 2_000, "contacts": 6_000, "history_contacts": 0, "spread_days": 14},
    "city-peak": {"cases": 20_000, "contacts": 70_000, "history_contacts": 0, "spread_days": 14},
    "national-peak": {"cases": 55_000, "contacts": 105_000, "history_contacts": 1_000_000, "spread_days": 0},
}
HISTORY_DAYS = 28
BENCH_TRACERS = 200  # accounts bench.tracer0..199@bench.example, for the load test
BENCH_PASSWORD = "amber-lantern-quay"
FIRST = ["Ada", "Bram", "Cleo", "Dev", "Ember", "Finn", "Gale", "Hollis", "Ione", "Jory", "Kit", "Lark", "Mira",
         "Nell", "Orla", "Pip", "Quin", "Rue", "Sol", "Tam", "Una", "Vale", "Wren", "Yara", "Zeb"]
LAST = ["Fairweather", "Kestrel", "Moorcroft", "Nettlefold", "Quillon", "Rookwood", "Sallow", "Thimble", "Ashdown",
        "Brackley", "Cinderby", "Dunmore", "Elderfield", "Foxley", "Greythorn", "Hollowell", "Inchbold", "Juniper"]
STREETS = ["Pretend Place", "Sample Street", "Fictional Road", "Example Avenue", "Imaginary Lane", "Model Row"]
DISTRICTS = [f"S{n}" for n in range(1, 21)] + ["S35", "S36", "S60", "S61", "S62", "S63", "S64", "S65", "S66", "S70"]
REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
# Ofcom's ranges for drama (never allocated to anyone): a UK mobile range and one per big city, in E.164.
DRAMA_NUMBERS = (
    [f"+447700900{n:03d}" for n in range(1000)]
    + [f"+44{area}4960{n:03d}" for area in ("113", "114", "115", "116", "117", "118", "121", "131", "141", "151",
                                            "161") for n in range(1000)]
    + [f"+441914980{n:03d}" for n in range(1000)] + [f"+442079460{n:03d}" for n in range(1000)]
    + [f"+442920180{n:03d}" for n in range(1000)] + [f"+441632960{n:03d}" for n in range(1000)]
)


@dataclass
class Tables:
    """Rows per table, as tuples in the column order below."""

    rows: dict[str, list[tuple]] = field(default_factory=lambda: {t: [] for t in COLUMNS})


COLUMNS = {
    "households": ("id", "address", "postcode", "created_at"),
    "people": ("id", "first_name", "last_name", "date_of_birth", "phone", "email", "address", "postcode",
               "household_id", "language", "is_vulnerable", "has_sms_opt_out", "created_at", "updated_at"),
    "cases": ("id", "reference", "person_id", "test_date", "symptom_onset_date", "source", "status",
              "isolation_end_date", "policy_id", "created_by_id", "created_at"),
    "contacts": ("id", "case_id", "person_id", "relationship", "last_exposure_date", "quarantine_end_date",
                 "status", "policy_id", "created_by_id", "created_at"),
    "work_items": ("id", "kind", "case_id", "contact_id", "person_id", "status", "band", "is_household_raised",
                   "due_at", "created_at", "attempts", "outcome", "closed_at"),
    "call_attempts": ("id", "work_item_id", "person_id", "tracer_id", "outcome", "is_failed", "notes",
                      "started_at", "created_at", "duration_seconds"),
    "messages": ("id", "person_id", "direction", "channel", "trigger", "to_number", "from_number", "body", "status",
                 "twilio_sid", "attempts", "needs_lookup", "status_updated_at", "created_at", "work_item_id"),
    "escalations": ("id", "work_item_id", "person_id", "household_id", "reason", "status", "created_at",
                    "resolved_at"),
    # Check-ins on days 2, 5 and 8 after someone is reached (most answer 1; some 2 or 3, some not at all),
    # and the alerts a 2, a 3 or two missed in a row raise (older ones dealt with).
    "checkins": ("id", "person_id", "case_id", "contact_id", "day", "send_on", "due_at", "sent_at", "reply",
                 "replied_at", "missed_at", "created_at"),
    "team_alerts": ("id", "kind", "person_id", "detail", "created_at", "resolved_at"),
    "audit_events": ("id", "at", "actor_id", "action", "record_type", "record_id", "via", "ip", "details",
                     "chain_seq", "prev_hash", "hash"),
}
TABLE_ORDER = list(COLUMNS)


class Generator:
    def __init__(self, seed: int, now: datetime, tracer_ids: list[int], policy_id: int, start_ids: dict[str, int],
                 chain_start: tuple[int, str]):
        self.rng = random.Random(seed)
        self.now = now
        self.tracers = tracer_ids
        self.policy_id = policy_id
        self.ids = dict(start_ids)
        self.chain_seq, self.chain_prev = chain_start
        self.phone_counter = 0

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def phone(self) -> str:
        """The next number from Ofcom's drama ranges: ~16,000 numbers in all, so at national scale they
        repeat (people sharing a number are called together, as a family sharing a phone would be)."""
        self.phone_counter += 1
        return DRAMA_NUMBERS[self.phone_counter % len(DRAMA_NUMBERS)]

    def audit(self, out: Tables, at: datetime, actor: int | None, action: str, record_type: str, record_id: int,
              details: dict | None = None) -> None:
        from tts.audit.chain import content_hash

        self.chain_seq += 1
        digest = content_hash(self.chain_seq, self.chain_prev, at=at, actor_id=actor, action=action,
                              record_type=record_type, record_id=record_id, via="web", ip="127.0.0.1",
                              details=details)
        out.rows["audit_events"].append((self.next_id("audit_events"), at, actor, action, record_type, record_id,
                                         "web", "127.0.0.1", json.dumps(details) if details else None,
                                         self.chain_seq, self.chain_prev, digest))
        self.chain_prev = digest

    def reference(self, case_id: int) -> str:
        n = (case_id * 7_368_787) % (30 ** 5)  # a bijection on 0..30^5-1: unique while ids stay below it
        chars = []
        for _ in range(5):
            n, r = divmod(n, 30)
            chars.append(REF_ALPHABET[r])
        return "TTS-" + "".join(chars)

    def person(self, out: Tables, created: datetime, household: tuple[int, str, str] | None, adult: bool = True,
               last_name: str | None = None) -> int:
        pid = self.next_id("people")
        age = self.rng.randint(18, 85) if adult else self.rng.randint(0, 17)
        dob = created.date() - timedelta(days=age * 365 + self.rng.randint(0, 364))
        has_phone = self.rng.random() < 0.95
        address, postcode = (household[1], household[2]) if household else (None, None)
        out.rows["people"].append((
            pid, self.rng.choice(FIRST), last_name or self.rng.choice(LAST), dob, self.phone() if has_phone else None,
            None, address, postcode, household[0] if household else None,
            self.rng.choice(["Polish", "Urdu", "Punjabi", "Arabic"]) if self.rng.random() < 0.04 else None,
            self.rng.random() < 0.03, False, created, created))
        return pid

    def household(self, out: Tables, created: datetime) -> tuple[int, str, str]:
        hid = self.next_id("households")
        district = self.rng.choice(DISTRICTS)
        postcode = f"{district} {self.rng.randint(1, 9)}{self.rng.choice('ABDEFGHJLNPQRSTUWXYZ')}" \
                   f"{self.rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
        address = f"{self.rng.randint(1, 240)} {self.rng.choice(STREETS)}, Sheffield"
        out.rows["households"].append((hid, address, postcode, created))
        return hid, address, postcode

    def work(self, out: Tables, *, kind_subject: tuple[str, int], person_id: int, band: int, created: datetime,
             phone: bool, finished: bool, reach_p: float) -> None:
        """One first-call work item and its attempts: several tries, reached or escalated."""
        wid = self.next_id("work_items")
        case_id = kind_subject[1] if kind_subject[0] == "case" else None
        contact_id = kind_subject[1] if kind_subject[0] == "contact" else None
        attempts, outcome, closed, status, t = 0, None, None, "open", created
        if phone and (finished or self.rng.random() < 0.45):
            for n in range(3):
                t = t + timedelta(minutes=self.rng.randint(20, 60 * (2 + 2 * n)))
                if not finished and t >= self.now:
                    break
                tracer = self.rng.choice(self.tracers)
                reached = self.rng.random() < reach_p
                result = "reached" if reached else self.rng.choice(["no_answer", "voicemail", "busy"])
                aid = self.next_id("call_attempts")
                out.rows["call_attempts"].append((aid, wid, person_id, tracer, result, not reached, None, t, t,
                                                  self.rng.randint(300, 1500) if reached else self.rng.randint(15, 60)))
                self.audit(out, t, tracer, "workitem.attempt", "workitem", wid, {"outcome": result})
                if not reached:
                    attempts += 1
                    self.text(out, person_id, "missed_call", t, wid)
                if reached:
                    outcome, closed, status = "reached", t, "done"
                    self.text(out, person_id, "isolation_advice", t, wid)
                    self.checkins(out, person_id, case_id, contact_id, t)
                    break
            else:
                status, closed = "escalated", t
                self.escalation(out, wid, person_id, "attempts_exhausted", t, finished)
        elif not phone:
            status, closed = "escalated", created
            self.escalation(out, wid, person_id, "no_phone", created, finished)
        out.rows["work_items"].append((wid, "initial_call", case_id, contact_id, person_id, status, band, False,
                                       created, created, attempts, outcome, closed))

    def checkins(self, out: Tables, person_id: int, case_id: int | None, contact_id: int | None,
                 reached: datetime) -> None:
        missed_in_a_row = 0
        for day in (2, 5, 8):
            due = datetime.combine(reached.date() + timedelta(days=day), dtime(10, 0), tzinfo=UTC)
            sent = due if due <= self.now else None
            draw = self.rng.random()
            reply = None if sent is None else "1" if draw < 0.72 else "2" if draw < 0.75 else "3" if draw < 0.78 else None
            replied = sent + timedelta(minutes=self.rng.randint(1, 300)) if reply else None
            missed = sent + timedelta(hours=24) if sent and not reply and sent + timedelta(hours=24) <= self.now else None
            out.rows["checkins"].append((self.next_id("checkins"), person_id, case_id, contact_id, day, due.date(), due,
                                         sent, reply, replied, missed, reached))
            missed_in_a_row = missed_in_a_row + 1 if missed else 0
            kind = {"2": "checkin_worse", "3": "checkin_help"}.get(reply) or (
                "checkins_missed" if missed_in_a_row == 2 else None)
            if kind:
                at = replied or missed
                dealt = at + timedelta(hours=self.rng.randint(1, 6))
                out.rows["team_alerts"].append((self.next_id("team_alerts"), kind, person_id, "From a check-in", at,
                                                dealt if dealt <= self.now - timedelta(hours=2) else None))

    def escalation(self, out: Tables, work_item_id: int, person_id: int, reason: str, at: datetime,
                   finished: bool) -> None:
        eid = self.next_id("escalations")
        resolved = at + timedelta(hours=self.rng.randint(4, 30)) if finished else None
        out.rows["escalations"].append((eid, work_item_id, person_id, None, reason,
                                        "resolved" if finished else "open", at, resolved))

    def text(self, out: Tables, person_id: int, trigger: str, at: datetime, work_item_id: int | None) -> None:
        mid = self.next_id("messages")
        body = {"introduction": "This is your local test, trace and support team. We will call you today from "
                                "0114 496 0000. Please answer: it is about your health.",
                "missed_call": "We tried to call you about your health. Please call us back on 0114 496 0000.",
                "isolation_advice": "Thank you for speaking with us. Please stay at home until the date we gave "
                                    "you. If you need help with food or medicine, call 0114 496 0000."}[trigger]
        out.rows["messages"].append((mid, person_id, "outbound", "sms", trigger, self.phone(), "+447700900000", body,
                                     "delivered", "SM" + uuid.UUID(int=self.rng.getrandbits(128)).hex, 1, False,
                                     at + timedelta(seconds=5), at, work_item_id))

    def case(self, out: Tables, created: datetime, contacts: int, finished: bool) -> int:
        """A case, its household (1 to 6 people at one address) and its other contacts."""
        tracer = self.rng.choice(self.tracers)
        household_size = min(6, 1 + min(contacts, self._household_extra()))
        home = self.household(out, created)
        family = self.rng.choice(LAST)
        case_person = self.person(out, created, home, last_name=family)
        case_id = self.next_id("cases")
        test_date = created.date() - timedelta(days=self.rng.randint(0, 2))
        onset = test_date - timedelta(days=self.rng.randint(0, 3)) if self.rng.random() < 0.7 else None
        out.rows["cases"].append((case_id, self.reference(case_id), case_person, test_date, onset, "local", "open",
                                  (onset or test_date) + timedelta(days=10), self.policy_id, tracer, created))
        self.audit(out, created, tracer, "case.create", "case", case_id)
        self.text(out, case_person, "introduction", created, None)
        self.work(out, kind_subject=("case", case_id), person_id=case_person, band=2, created=created, phone=True,
                  finished=finished, reach_p=0.55)
        for n in range(contacts):
            household = n < household_size - 1
            t = created + timedelta(minutes=self.rng.randint(5, 90))
            if finished is False and t > self.now:
                t = self.now
            pid = self.person(out, t, home if household else None, adult=self.rng.random() < 0.8,
                              last_name=family if household else None)
            cid = self.next_id("contacts")
            exposure = test_date - timedelta(days=self.rng.randint(0, 2))
            out.rows["contacts"].append((cid, case_id, pid, "household" if household else
                                         self.rng.choice(["close", "close", "workplace", "education", "other"]),
                                         exposure, exposure + timedelta(days=14), "open", self.policy_id, tracer, t))
            self.audit(out, t, tracer, "contact.create", "contact", cid)
            self.text(out, pid, "introduction", t, None)
            self.work(out, kind_subject=("contact", cid), person_id=pid, band=2 if household else 3, created=t,
                      phone=self.rng.random() < 0.93, finished=finished, reach_p=0.5 if household else 0.4)
        return case_id

    def _household_extra(self) -> int:
        # Household sizes in England (ONS): 1 person 30%, 2 35%, 3 15%, 4 13%, 5 5%, 6+ 2%.
        return self.rng.choices([0, 1, 2, 3, 4, 5], weights=[30, 35, 15, 13, 5, 2])[0]


def contact_counts(rng: random.Random, cases: int, contacts: int) -> list[int]:
    """Per-case contact counts (0 to 15: household plus up to 10 others) summing exactly to `contacts`."""
    mean = contacts / cases
    counts = [min(15, max(0, int(rng.expovariate(1 / mean)))) if mean else 0 for _ in range(cases)]
    diff = contacts - sum(counts)
    while diff:
        i = rng.randrange(cases)
        if diff > 0 and counts[i] < 15:
            counts[i] += 1
            diff -= 1
        elif diff < 0 and counts[i] > 0:
            counts[i] -= 1
            diff += 1
    return counts


def batches(gen: Generator, preset: dict, seed: int, size: int = 2_000) -> Iterator[Tables]:
    rng = random.Random(seed + 1)
    today_start = datetime.combine(gen.now.date(), dtime(0, 0), tzinfo=UTC)
    history_cases = round(preset["history_contacts"] / 1.9) if preset["history_contacts"] else 0
    plan = []
    if history_cases:
        counts = contact_counts(rng, history_cases, preset["history_contacts"])
        span = HISTORY_DAYS * 86400
        for c in counts:
            plan.append((today_start - timedelta(days=HISTORY_DAYS) + timedelta(seconds=rng.randrange(span)), c, True))
    counts = contact_counts(rng, preset["cases"], preset["contacts"])
    if preset["spread_days"]:
        span = preset["spread_days"] * 86400
        start = gen.now - timedelta(days=preset["spread_days"])
    else:
        span = max(1, int((gen.now - today_start).total_seconds()) - 600)
        start = today_start
    for c in counts:
        created = start + timedelta(seconds=rng.randrange(span))
        plan.append((created, c, created < gen.now - timedelta(days=2)))
    plan.sort(key=lambda p: p[0])
    out = Tables()
    for n, (created, contacts, finished) in enumerate(plan, start=1):
        gen.case(out, created, contacts, finished)
        if n % size == 0:
            yield out
            out = Tables()
    yield out


def write_postgres(engine, tables: Tables) -> int:
    raw = engine.raw_connection()
    total = 0
    try:
        with raw.cursor() as cur:
            for table in TABLE_ORDER:
                rows = tables.rows[table]
                if not rows:
                    continue
                with cur.copy(f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                total += len(rows)
        raw.commit()
    finally:
        raw.close()
    return total


def write_sqlite(engine, tables: Tables) -> int:
    from sqlalchemy import text

    total = 0
    with engine.begin() as conn:
        for table in TABLE_ORDER:
            rows = tables.rows[table]
            if rows:
                cols = COLUMNS[table]
                stmt = text(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})")
                conn.execute(stmt, [dict(zip(cols, _sqlite(r))) for r in rows])
                total += len(rows)
    return total


def _sqlite(row: tuple) -> tuple:
    return tuple(v.astimezone(UTC).replace(tzinfo=None) if isinstance(v, datetime) else v for v in row)


def load(database_url: str, preset_name: str, seed: int = 1, now: datetime | None = None, quiet: bool = False) -> dict:
    """Load a preset into a migrated database; returns counts and timings."""
    from sqlalchemy import func, select, text

    from tts import create_app
    from tts.audit.models import AuditEvent
    from tts.auth.models import User
    from tts.auth.services import hash_password
    from tts.extensions import db
    from tts.policies.models import IsolationPolicy

    preset = PRESETS[preset_name]
    now = now or datetime.now(UTC)
    app = create_app("development", SQLALCHEMY_DATABASE_URI=database_url)
    with app.app_context():
        tracer_ids = list(db.session.scalars(select(User.id).where(User.role == "tracer")))
        if len(tracer_ids) < BENCH_TRACERS:
            password_hash = hash_password(BENCH_PASSWORD)  # one scrypt hash, shared: 120 ms each adds up
            for n in range(len(tracer_ids), BENCH_TRACERS):
                email = f"bench.tracer{n}@bench.example"
                db.session.add(User(email=email, name=f"Bench Tracer {n}", role="tracer", password_hash=password_hash,
                                    is_active=True, totp_secret=bench_totp_secret(email), totp_enrolled_at=now,
                                    phone="+447700900990", is_on_shift=True))
            if db.session.scalar(select(User.id).where(User.email == "bench.supervisor@bench.example")) is None:
                for role in ("supervisor", "reporting", "admin"):
                    email = f"bench.{role}@bench.example"
                    db.session.add(User(email=email, name=f"Bench {role.title()}", role=role, is_active=True,
                                        password_hash=password_hash, totp_secret=bench_totp_secret(email),
                                        totp_enrolled_at=now, can_export_identifiable=role == "admin"))
            db.session.commit()
            tracer_ids = list(db.session.scalars(select(User.id).where(User.role == "tracer")))
        policy_id = db.session.scalar(select(IsolationPolicy.id).order_by(IsolationPolicy.id))
        starts = {t: db.session.scalar(text(f"SELECT COALESCE(MAX(id), 0) FROM {t}")) for t in COLUMNS}
        last = db.session.execute(select(AuditEvent.chain_seq, AuditEvent.hash).where(AuditEvent.chain_seq.is_not(None))
                                  .order_by(AuditEvent.chain_seq.desc()).limit(1)).first()
        chain = (last.chain_seq, last.hash) if last else (0, "0" * 64)
        engine = db.engine
        gen = Generator(seed, now, tracer_ids, policy_id, starts, chain)
        write = write_postgres if engine.dialect.name == "postgresql" else write_sqlite
        started = time.perf_counter()
        rows = 0
        for n, tables in enumerate(batches(gen, preset, seed), start=1):
            rows += write(engine, tables)
            if not quiet and n % 25 == 0:
                print(f"  {rows:,} rows, {time.perf_counter() - started:.0f} s", flush=True)
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                for table in COLUMNS:
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                      f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        elapsed = time.perf_counter() - started
        counts = {t: db.session.scalar(select(func.count()).select_from(db.metadata.tables[t])) for t in COLUMNS}
        db.session.remove()
        engine.dispose()
    return {"preset": preset_name, "rows": rows, "seconds": round(elapsed, 1), "counts": counts}


def bench_totp_secret(email: str) -> str:
    import base64

    return base64.b32encode(hashlib.sha256(f"tts-bench-{email}".encode()).digest()).decode()[:32]


def fresh_postgres(server: str, name: str) -> str:
    import flask_migrate
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from tts import create_app
    from tts.extensions import db

    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    app = create_app("development", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        flask_migrate.upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
        db.session.remove()
        db.engine.dispose()
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="council")
    parser.add_argument("--database-url", help="load into this (migrated) database instead of a fresh one")
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    url = args.database_url or fresh_postgres(args.server, f"tts_bench_{args.preset.replace('-', '_')}")
    print(f"Loading {args.preset}: {PRESETS[args.preset]}", flush=True)
    result = load(url, args.preset, args.seed)
    print(json.dumps(result, indent=2))
    print(url)


if __name__ == "__main__":
    main()
