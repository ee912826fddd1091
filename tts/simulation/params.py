"""The simulation's parameters: every one has a default, a source (published figure or labelled assumption,
see docs/simulation.md) and can be overridden from a JSON file (`--params FILE`)."""
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path


@dataclass(frozen=True)
class Params:
    # Answering: the chance a call is answered, by attempt number (1st, 2nd, 3rd and later).
    answer_by_attempt: tuple[float, ...] = (0.55, 0.45, 0.35)
    # Multiplier by hour of day (London), as (from hour, multiplier); the last entry at or before the hour applies.
    answer_by_hour: tuple[tuple[int, float], ...] = ((8, 0.85), (10, 1.0), (12, 0.9), (14, 0.95), (17, 1.15))
    presms_multiplier: float = 1.25  # an introduction text arrived before the call
    household_reached_multiplier: float = 1.3  # someone in their household has already spoken to the team
    # On a call that reaches several people of one household (household calls), the next member after one who
    # answered is usually in the same room: the chance they come to the phone (assumption).
    handed_phone_answer: float = 0.8
    max_answer: float = 0.95
    # Of answered calls: asked to be called back, refused; of unanswered: went to voicemail, line busy.
    callback_share: float = 0.05
    callback_after_hours: float = 2.0
    refused_share: float = 0.03
    # Of answered calls that would reach the person: they need an interpreter (0 in the planner: an interpreter
    # call is still a reach for its figures; the demo data sets it so the outcome appears).
    language_barrier_share: float = 0.0
    voicemail_share: float = 0.4
    busy_share: float = 0.1
    wrong_number_share: float = 0.03  # of all dialled calls
    # People's phones.
    mobile_share: float = 0.85
    no_phone_share: float = 0.04  # the rest have a landline
    # Call length in minutes: (median, spread as the sigma of a log-normal), plus wrap-up after every call.
    minutes_reached_case: tuple[float, float] = (25.0, 0.35)
    minutes_reached_contact: tuple[float, float] = (10.0, 0.35)
    minutes_unanswered: tuple[float, float] = (1.2, 0.3)
    minutes_voicemail: tuple[float, float] = (2.0, 0.3)
    minutes_wrap_up: float = 2.0
    idle_poll_minutes: float = 2.0  # the soonest an idle tracer looks again for an item falling due
    idle_recheck_minutes: float = 60.0  # an idle tracer looks again at least this often anyway
    worker_every_minutes: float = 15.0  # the worker's regular pass (escalation sweep); texts go within seconds
    # Household size (people), shares for sizes 1..6: ONS Families and Households 2020 (1: 29%, 2: 35%,
    # 3: 16%, 4: 13%, 5: 5%, 6 or more: 2%).
    household_size_shares: tuple[float, ...] = (0.29, 0.35, 0.16, 0.13, 0.05, 0.02)
    max_other_contacts: int = 10
    # When positive results arrive (London hours, uniform in between).
    arrivals_from_hour: int = 7
    arrivals_to_hour: int = 21
    tail_days: int = 2  # days of calling after the last day of arrivals, to see 24 h and 48 h reach
    shift_start_hour: int = 8  # tracers work the calling hours
    shift_end_hour: int = 20
    # Self-service (a scenario with self_service on): all assumptions, docs/simulation.md says why each.
    self_service_uptake: float = 0.5  # cases whose introduction text (with their link) went: share who send the form
    self_service_delay_hours: tuple[float, float] = (2.0, 0.8)  # text -> form sent: median hours, log-normal sigma
    text_confirm_share: float = 0.4  # contacts whose advice text (with their link) went: share who confirm it
    text_confirm_delay_hours: tuple[float, float] = (1.5, 0.8)
    minutes_check_call: tuple[float, float] = (12.0, 0.35)  # the "check and support" call after the online form

    def with_overrides(self, overrides: dict) -> "Params":
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"unknown simulation parameters: {', '.join(unknown)}")
        values = asdict(self)
        for key, value in overrides.items():
            default = values[key]
            if isinstance(default, tuple):
                value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
            elif isinstance(default, float):
                value = float(value)
            elif isinstance(default, int):
                value = int(value)
            values[key] = value
        return Params(**values)

    @classmethod
    def load(cls, path: str | Path | None) -> "Params":
        if not path:
            return cls()
        return cls().with_overrides(json.loads(Path(path).read_text(encoding="utf-8")))

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Scenario:
    cases_per_day: int = 1000
    contacts_per_case: float = 3.0
    tracers: int = 12
    days: int = 1
    seed: int = 1
    policy: str = "tts"  # tts (the app's priority rules) or fifo (first come, first served)
    presms: bool = True  # the introduction text goes before the first call
    household_calls: bool = True  # household members and shared phones are called on the same call
    # Cases complete the online form from their introduction text and contacts confirm their advice by text
    # (at the rates in params): TTS_SELF_SERVICE on. Off, the texts carry no link.
    self_service: bool = False
    hold_hours: float = 0.0  # TTS_SELF_SERVICE_HOLD_HOURS: a new case's first call waits this long for the form
    params: Params = field(default_factory=Params)

    def __post_init__(self):
        problems = []
        if not 1 <= self.cases_per_day <= 20_000:
            problems.append("cases per day must be from 1 to 20,000")
        if not 0 <= self.contacts_per_case <= 20:
            problems.append("contacts per case must be from 0 to 20")
        if not 1 <= self.tracers <= 2_000:
            problems.append("tracers must be from 1 to 2,000")
        if not 1 <= self.days <= 14:
            problems.append("days must be from 1 to 14")
        if not 0 <= self.hold_hours <= 24:
            problems.append("the hold must be from 0 to 24 hours")
        if self.policy not in ("tts", "fifo"):
            problems.append("policy must be tts or fifo")
        if problems:
            raise ValueError("; ".join(problems))

    def describe(self) -> dict:
        return {"cases_per_day": self.cases_per_day, "contacts_per_case": self.contacts_per_case,
                "tracers": self.tracers, "days": self.days, "seed": self.seed, "policy": self.policy,
                "presms": self.presms, "household_calls": self.household_calls, "self_service": self.self_service,
                "hold_hours": self.hold_hours}
