"""The set-based import: the app's rules for a new case or contact applied to a whole file in memory, then
written with one COPY a table on PostgreSQL (one executemany on SQLite), the audit events already sealed,
instead of one service call a row.

The rules are not written here: they are the intake rules the services apply too, from one place each:
what a case or contact must be and who may not be one (tts/cases/intake.py), who counts as someone
already known, what a new entry fills in and which household an address is (tts/people/matching.py),
the policy's dates (tts/policies), the first call's band (tts/callqueue/bands.py), the text's values and
skip rules (tts/telephony/services.py). What is here is how they are applied to a whole file at once:
the lookups, the order of effects, and the writing. The services' own path (TTS_IMPORT_SET_BASED=0,
`RowByRow` in tts/imports/services.py) is kept as the oracle: `tests/imports/test_set_based.py` imports
files built to exercise every branch both ways and asserts the database ends up the same.

Its steps: read every person, household, case and contact the file can touch in a few queries (keyed by
what matching looks at: date of birth with phone, date of birth with postcode); apply each row to those
objects in file order, exactly as the services would (a row's effects are applied only once all its checks
pass, as a savepoint would roll them back); then, if no row has a problem, write it all.
"""
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, exists, func, select, text, tuple_, update

from tts.audit import chain
from tts.audit.services import event_origin, event_row
from tts.bulk_insert import insert_rows
from tts.callqueue.models import ItemKind, ItemStatus, WorkItem
from tts.callqueue.bands import compute_band
from tts.callqueue.services import find_speaker
from tts.cases.models import Case, CaseSource, Contact, ContactSource, Relationship
from tts.cases.services import current_case
from tts.cases.intake import check_case, check_contact, check_new_contact, lives_with_case, random_reference
from tts.clock import utcnow
from tts.escalation.models import Escalation, EscalationReason
from tts.extensions import db
from tts.imports.dates import date_or_none as _date_or_none
from tts.imports.errors import AlreadyCase
from tts.people.languages import ENGLISH, plain_name, speaks
from tts.people.models import Household, Person
from tts.people.matching import FILLABLE, fill_in, household_key, is_same_person
from tts.people.validation import PersonData, normalise_postcode
from tts.policies.models import IsolationPolicy
from tts.policies.services import policy_in_force
from tts.selfservice import links
from tts.selfservice.models import LinkPurpose, LinkStatus, SelfServiceLink
from tts.telephony.models import Message, MessageStatus, Trigger
from tts.telephony.services import get_template, skip_reason, template_values, wording
from tts.telephony.templates import render

_CHUNK = 500  # keys a lookup query
_PERSON_COLUMNS = ("first_name", "last_name", "date_of_birth", "phone", "email", "address", "postcode", "language")


@dataclass(slots=True, eq=False)
class _Household:
    id: int | None
    address: str | None
    postcode: str | None


@dataclass(slots=True, eq=False)
class _Person:
    id: int | None
    order: tuple  # matching takes the lowest: (0, id) for people already known, (1, n) for the file's new ones
    first_name: str
    last_name: str
    date_of_birth: date | None
    phone: str | None
    email: str | None
    address: str | None
    postcode: str | None
    household: _Household | None
    language: str | None = None
    is_vulnerable: bool = False
    has_sms_opt_out: bool = False
    has_introduction: bool = False
    loaded: dict | None = None  # a known person's columns as read, to write only what changed

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(slots=True, eq=False)
class _Case:
    id: int | None
    person: _Person
    test_date: date
    symptom_onset_date: date | None
    isolation_end_date: date
    policy: IsolationPolicy
    referral_id: str | None = None
    reference: str | None = None
    known: bool = False  # read from the database, not made by this file
    generation: int = 0  # the chunk of the file it belongs to (SetBased.end_chunk)


@dataclass(slots=True, eq=False)
class _Contact:
    id: int | None
    case: _Case
    person: _Person
    relationship_: str
    last_exposure_date: date
    quarantine_end_date: date
    policy: IsolationPolicy
    referral_id: str | None


@dataclass(slots=True, eq=False)
class _Item:
    person: _Person
    case: _Case | None
    contact: _Contact | None
    kind: str = ItemKind.INITIAL_CALL
    is_household_raised: bool = False
    band: int = 0
    escalated: bool = False
    language: str | None = None
    assignee_id: int | None = None
    id: int | None = None


@dataclass(slots=True, eq=False)
class _Escalation:
    item: _Item
    person: _Person
    household: _Household | None
    id: int | None = None


@dataclass(slots=True, eq=False)
class _Link:
    person: _Person
    case: "_Case | None"
    contact: "_Contact | None"
    token: str
    id: int | None = None


@dataclass(slots=True, eq=False)
class _Message:
    person: _Person
    item: _Item
    to_number: str
    skipped: str | None
    trigger: str = Trigger.INTRODUCTION
    body: str = ""
    language: str = "en"
    link: _Link | None = None
    id: int | None = None


@dataclass(slots=True)
class _Event:
    action: str
    record: object
    details: dict | None


def _key(obj) -> tuple:
    """A stable key for a case or person (new ones get their id while the file is still being applied)."""
    known = obj.order[0] == 0 if isinstance(obj, _Person) else obj.known
    return ("db", obj.id) if known else ("new", id(obj))


@dataclass
class SetBased:
    """The import backend `tts.imports.services.import_with` drives; `write()` stores what it planned."""

    actor: object
    rows: list[dict]
    people: dict[int, _Person] = field(default_factory=dict)
    by_phone: dict[tuple, list[_Person]] = field(default_factory=lambda: defaultdict(list))
    by_postcode: dict[tuple, list[_Person]] = field(default_factory=lambda: defaultdict(list))
    households: dict[int, _Household] = field(default_factory=dict)
    households_at: dict[str, dict[str, _Household]] = field(default_factory=dict)  # postcode -> address key ->
    loaded_keys: set = field(default_factory=set)  # ("phone" | "postcode", (date of birth, value)) read
    db_cases: dict[str, _Case | None] = field(default_factory=dict)
    case_of: dict[int, _Case] = field(default_factory=dict)  # id(person) -> the case this file made for them
    current_cases: dict[int, _Case | None] = field(default_factory=dict)  # person id -> their current case
    pairs: set = field(default_factory=set)  # (case key, person key) of every contact
    new_households: list[_Household] = field(default_factory=list)
    new_people: list[_Person] = field(default_factory=list)
    cases: list[_Case] = field(default_factory=list)
    contacts: list[_Contact] = field(default_factory=list)
    items: list[_Item] = field(default_factory=list)
    escalations: list[_Escalation] = field(default_factory=list)
    links: list[_Link] = field(default_factory=list)
    messages: list[_Message] = field(default_factory=list)
    events: list[_Event] = field(default_factory=list)
    cases_by_id: dict[int, _Case] = field(default_factory=dict)
    generation: int = 0

    def __post_init__(self) -> None:
        self.now = utcnow()
        if not self.rows:  # given part by part (begin_chunk)
            self.rows = []
        self.policy = policy_in_force()
        template = get_template(Trigger.INTRODUCTION)
        self.introduction = template.body if template is not None and template.is_enabled else None
        advice = get_template(Trigger.CONTACT_ADVICE)
        self.contact_advice = advice.body if advice is not None and advice.is_enabled else None
        self.links_enabled = links.enabled()
        self.link_hours = current_app.config["TTS_SELF_SERVICE_HOURS"]
        self._preload()

    # --- Reading what the file can touch, a few queries for the whole file ---------------------------

    def _preload(self) -> None:
        """Everything matching can look at, in a few queries: the cases contacts name, then the people with
        each row's date of birth and phone or postcode, then the households at each row's postcode. Whatever
        a row needs beyond this (a key only known once earlier rows are applied) is read when it is needed."""
        refs = sorted({r.case_referral_id for r in self.rows if r.record_type == "contact" and r.case_referral_id})
        for start in range(0, len(refs), _CHUNK):
            self._load_cases(refs[start:start + _CHUNK])
        case_postcodes = {r.referral_id: _clean(normalise_postcode, r.postcode)
                          for r in self.rows if r.record_type == "case"}
        for ref, case in [*self.db_cases.items(), *getattr(self, "carried", {}).items()]:
            if case is not None:
                case_postcodes.setdefault(ref, case.person.postcode)
        postcodes: set[str] = set()
        phone_keys: set[tuple] = set()
        postcode_keys: set[tuple] = set()
        for row in self.rows:
            postcode = _clean(normalise_postcode, row.postcode)
            if postcode is None and row.relationship == Relationship.HOUSEHOLD:
                postcode = case_postcodes.get(row.case_referral_id)  # they take their case's address
            if postcode:
                postcodes.add(postcode)
            born = _date_or_none(row.date_of_birth)
            if born is not None:
                phone = _likely_e164(row.phone)
                if phone:
                    phone_keys.add((born, phone))
                if postcode:
                    postcode_keys.add((born, postcode))
        self._load_people(phone_keys=phone_keys, postcode_keys=postcode_keys)
        self._load_households(sorted(postcodes | {p.postcode for p in self.people.values() if p.postcode}))

    def _load_cases(self, refs: list[str] = (), ids: list[int] = ()) -> None:
        found = db.session.execute(select(Case.id, Case.referral_id, Case.person_id, Case.test_date,
                                          Case.symptom_onset_date, Case.isolation_end_date, Case.policy_id,
                                          Case.reference).where(
            Case.referral_id.in_(refs) if not ids else Case.id.in_(ids) if not refs
            else Case.referral_id.in_(refs) | Case.id.in_(ids))).all()
        self._load_people(ids={row.person_id for row in found})
        wanted = set(refs)
        for row in found:
            case = self.cases_by_id.get(row.id) or _Case(
                id=row.id, person=self.people[row.person_id], test_date=row.test_date,
                symptom_onset_date=row.symptom_onset_date, isolation_end_date=row.isolation_end_date,
                policy=db.session.get(IsolationPolicy, row.policy_id), referral_id=row.referral_id,
                reference=row.reference, known=True, generation=self.generation)
            self.cases_by_id[row.id] = case
            if row.referral_id in wanted:
                self.db_cases[row.referral_id] = case
        for ref in refs:
            self.db_cases.setdefault(ref, None)
        case_ids = [row.id for row in found]
        if case_ids:
            self.pairs.update((("db", c), ("db", p)) for c, p in db.session.execute(
                select(Contact.case_id, Contact.person_id).where(Contact.case_id.in_(case_ids))))

    def _load_people(self, *, ids=(), phone_keys=(), postcode_keys=()) -> None:
        conditions = []
        ids = sorted(i for i in ids if i not in self.people)
        phone_keys = sorted(k for k in phone_keys if ("phone", k) not in self.loaded_keys)
        postcode_keys = sorted(k for k in postcode_keys if ("postcode", k) not in self.loaded_keys)
        for start in range(0, len(ids), _CHUNK):
            conditions.append(Person.id.in_(ids[start:start + _CHUNK]))
        for start in range(0, len(phone_keys), _CHUNK):
            conditions.append(tuple_(Person.date_of_birth, Person.phone).in_(phone_keys[start:start + _CHUNK]))
        for start in range(0, len(postcode_keys), _CHUNK):
            conditions.append(tuple_(Person.date_of_birth, Person.postcode).in_(postcode_keys[start:start + _CHUNK]))
        self.loaded_keys.update(("phone", k) for k in phone_keys)
        self.loaded_keys.update(("postcode", k) for k in postcode_keys)
        introduced = exists().where(Message.person_id == Person.id,
                                    Message.trigger.in_((Trigger.INTRODUCTION, Trigger.CONTACT_ADVICE)))
        for condition in conditions:
            for row in db.session.execute(select(Person.id, Person.household_id, Person.is_vulnerable,
                                                 Person.has_sms_opt_out, introduced.label("introduced"),
                                                 *(getattr(Person, c) for c in _PERSON_COLUMNS))
                                          .where(condition, Person.merged_into_id.is_(None))):
                if row.id in self.people:
                    continue
                loaded = {c: getattr(row, c) for c in _PERSON_COLUMNS} | {"household_id": row.household_id}
                person = _Person(id=row.id, order=(0, row.id), household=None, is_vulnerable=row.is_vulnerable,
                                 has_sms_opt_out=row.has_sms_opt_out, has_introduction=bool(row.introduced),
                                 loaded=loaded, **{c: getattr(row, c) for c in _PERSON_COLUMNS})
                if row.household_id is not None:  # its address is read with its postcode's, if needed
                    person.household = self.households.setdefault(row.household_id,
                                                                  _Household(row.household_id, None, None))
                self.people[row.id] = person
                self._index(person)

    def _load_households(self, postcodes: list[str]) -> None:
        postcodes = [p for p in postcodes if p not in self.households_at]
        for start in range(0, len(postcodes), _CHUNK):
            chunk = postcodes[start:start + _CHUNK]
            for postcode in chunk:
                self.households_at[postcode] = {}
            for row in db.session.execute(select(Household.id, Household.address, Household.postcode)
                                          .where(Household.postcode.in_(chunk)).order_by(Household.id)):
                household = self.households.get(row.id)
                if household is None:
                    household = self.households[row.id] = _Household(row.id, row.address, row.postcode)
                household.address, household.postcode = row.address, row.postcode
                self.households_at[row.postcode].setdefault(household_key(row.address), household)  # the first

    def _need_postcode(self, born: date, postcode: str) -> None:
        if ("postcode", (born, postcode)) not in self.loaded_keys:
            self._load_people(postcode_keys=[(born, postcode)])

    def _index(self, person: _Person) -> None:
        if person.date_of_birth is None:
            return
        if person.phone:
            self.by_phone[(person.date_of_birth, person.phone)].append(person)
        if person.postcode:
            self.by_postcode[(person.date_of_birth, person.postcode)].append(person)

    # --- The services' rules, on the objects -----------------------------------------------------------

    def _match(self, data: PersonData) -> _Person | None:
        """find_existing_person: of the people the rule could match (by date of birth with phone or postcode,
        as the service reads them), the earliest that `matching.is_same_person` says is the one entered."""
        born = data.date_of_birth
        if born is None:
            return None
        found = []
        if data.phone:
            if ("phone", (born, data.phone)) not in self.loaded_keys:
                self._load_people(phone_keys=[(born, data.phone)])
            found += self.by_phone.get((born, data.phone), [])
        if data.postcode and data.first_name and data.last_name:
            self._need_postcode(born, data.postcode)
            found += self.by_postcode.get((born, data.postcode), [])
        found = [p for p in found if is_same_person(p, data)]
        return min(found, key=lambda p: p.order) if found else None

    def _household_at(self, address: str, postcode: str) -> _Household:
        """find_or_create_household: matched ignoring case and spacing, created if new."""
        if postcode not in self.households_at:
            self._load_households([postcode])
        at_postcode = self.households_at[postcode]
        key = household_key(address)
        household = at_postcode.get(key)
        if household is None:
            household = at_postcode[key] = _Household(None, address, postcode)
            self.new_households.append(household)
        return household

    def _ensure_household(self, person: _Person) -> _Household | None:
        if person.household is None and person.address and person.postcode:
            person.household = self._household_at(person.address, person.postcode)
        return person.household

    def _known_or_new(self, data: PersonData, match: _Person | None, household: _Household | None,
                      link_household: bool) -> _Person:
        """find_or_create_person, once the row's checks have passed."""
        if match is not None:
            filled = fill_in(match, data)
            if "phone" in filled or "postcode" in filled:
                self._reindex(match, filled)
            self.events.append(_Event("person.match", match, {"filled": filled} if filled else None))
            return match
        if household is None and link_household and data.address and data.postcode:
            household = self._household_at(data.address, data.postcode)
        person = _Person(id=None, order=(1, len(self.new_people)), household=household,
                         **{c: getattr(data, c) for c in _PERSON_COLUMNS})
        self.new_people.append(person)
        self._index(person)
        self.events.append(_Event("person.create", person, None))
        return person

    def _reindex(self, person: _Person, filled: list[str]) -> None:
        if person.date_of_birth is None:
            return
        if "phone" in filled:
            self.by_phone[(person.date_of_birth, person.phone)].append(person)
        if "postcode" in filled:
            self.by_postcode[(person.date_of_birth, person.postcode)].append(person)

    def case(self, person: PersonData, *, test_date, symptom_onset_date, referral_id):
        source = CaseSource.NATIONAL_REFERRAL
        clean = check_case(person, test_date=test_date, symptom_onset_date=symptom_onset_date, source=source)
        match = self._match(clean)
        existing = self._current_case(match) if match is not None else None
        if existing is not None:
            raise AlreadyCase(existing)
        subject = self._known_or_new(clean, match, None, link_household=True)
        self._ensure_household(subject)
        case = _Case(id=None, person=subject, test_date=test_date, symptom_onset_date=symptom_onset_date,
                     isolation_end_date=self.policy.isolation_end(test_date, symptom_onset_date), policy=self.policy,
                     referral_id=referral_id, generation=self.generation)
        self.cases.append(case)
        self.case_of[id(subject)] = case
        self.events.append(_Event("case.create", case, {"person_id": subject, "source": source}))
        self._queue_first_call(case=case)
        return case

    def _current_case(self, person: _Person) -> _Case | None:
        """As `cases.services.current_case`: a case made for them earlier in this file, else their current
        case in the database (read once a person)."""
        if id(person) in self.case_of:
            return self.case_of[id(person)]
        if person.id is None:
            return None
        if person.id not in self.current_cases:
            found = current_case(person)
            self.current_cases[person.id] = None if found is None else self._known_case(found)
        return self.current_cases[person.id]

    def _known_case(self, case: Case) -> _Case:
        if case.id in self.cases_by_id:
            return self.cases_by_id[case.id]
        known = _Case(id=case.id, person=self.people[case.person_id], test_date=case.test_date,
                      symptom_onset_date=case.symptom_onset_date, isolation_end_date=case.isolation_end_date,
                      policy=case.policy, referral_id=case.referral_id, reference=case.reference, known=True,
                      generation=self.generation)
        self.cases_by_id[case.id] = known
        self.pairs.update((("db", case.id), ("db", p)) for p in db.session.scalars(
            select(Contact.person_id).where(Contact.case_id == case.id)))
        return known

    def case_by_referral(self, referral_id: str):
        if referral_id not in self.db_cases:
            self._load_cases([referral_id])
        return self.db_cases[referral_id]

    def contact(self, case: _Case, person: PersonData, *, relationship, last_exposure_date, referral_id) -> None:
        if case.generation != self.generation:  # a case from an earlier chunk: read it again, with its person
            if case.id not in self.cases_by_id:
                self._load_cases(ids=[case.id])
            case = self.cases_by_id[case.id]
        clean = check_contact(case, person, relationship=relationship, last_exposure_date=last_exposure_date)
        household_contact = lives_with_case(relationship)
        match = self._match(clean)
        # The service's savepoint would undo what it did before these checks fail: here nothing is done yet.
        if match is not None:
            check_new_contact(is_case_themselves=match is case.person,
                              already_contact=(_key(case), _key(match)) in self.pairs, name=match.full_name)
        household = self._ensure_household(case.person) if household_contact else None
        subject = self._known_or_new(clean, match, household, link_household=not household_contact)
        if household_contact:
            subject.household = household
        else:
            self._ensure_household(subject)
        contact = _Contact(id=None, case=case, person=subject, relationship_=relationship,
                           last_exposure_date=last_exposure_date,
                           quarantine_end_date=self.policy.quarantine_end(last_exposure_date), policy=self.policy,
                           referral_id=referral_id)
        self.contacts.append(contact)
        self.pairs.add((_key(case), _key(subject)))
        self.events.append(_Event("contact.create", contact, {"case_id": case, "person_id": subject,
                                                              "relationship": relationship,
                                                              "source": ContactSource.IMPORT.value}))
        self._queue_first_call(contact=contact)

    def _queue_first_call(self, *, case: _Case | None = None, contact: _Contact | None = None) -> None:
        """queue_initial_call: the first call, escalated at once without a phone, else the introduction."""
        person = (case or contact).person
        item = _Item(person=person, case=case, contact=contact)
        item.band = compute_band(item, person)
        if person.language and person.language != ENGLISH:  # route_by_language: from the first call
            item.language = plain_name(person.language)
            item.assignee_id = self._speaker(person.language)
        self.items.append(item)
        self.events.append(_Event("work_item.create", item, {"kind": item.kind, "person_id": person}))
        if not person.phone:
            item.escalated = True
            escalation = _Escalation(item, person, person.household)
            self.escalations.append(escalation)
            self.events.append(_Event("escalation.create", escalation,
                                      {"work_item_id": item, "reason": EscalationReason.NO_PHONE}))
        elif not person.has_introduction:
            # A contact's first text is the advice with their link (on_item_created), else the introduction.
            if contact is not None and self.contact_advice is not None:
                trigger = Trigger.CONTACT_ADVICE
            elif self.introduction is not None:
                trigger = Trigger.INTRODUCTION
            else:
                return
            template = wording(trigger, person.language)  # in their language where translated
            body = template.body
            person.has_introduction = True
            message = _Message(person, item, person.phone, skip_reason(person), trigger, body, template.language)
            if "{link}" in body and not message.skipped and self.links_enabled:
                message.link = _Link(person, case, contact if case is None else None, secrets.token_urlsafe(24))
                self.links.append(message.link)
                self.events.append(_Event("self_service.link_issue", message.link, {
                    "person_id": person, "purpose": LinkPurpose.CASE if case is not None else LinkPurpose.CONTACT}))
            self.messages.append(message)
            self.events.append(_Event("message.queue", message, {
                "person_id": person, "trigger": trigger,
                "status": MessageStatus.SKIPPED if message.skipped else MessageStatus.QUEUED}))

    def _speaker(self, code: str) -> int | None:
        """find_speaker for a whole file: each language's speakers and their load read once, each item given
        to the least loaded (so a file spreads its calls as one call at a time would)."""
        if not hasattr(self, "_speakers"):
            self._speakers: dict[str, tuple[list[int], dict[int, int]]] = {}
        if code not in self._speakers:
            chosen = find_speaker(code)
            if chosen is None:
                self._speakers[code] = ([], {})
            else:
                from tts.auth.models import User

                ids = [u.id for u in db.session.scalars(select(User).where(
                    User.is_active.is_(True), User.role.in_(("tracer", "supervisor")))) if speaks(u.language_list, code)]
                load = dict(db.session.execute(select(WorkItem.assignee_id, func.count()).where(
                    WorkItem.assignee_id.in_(ids), WorkItem.status.in_(("open", "claimed")))
                    .group_by(WorkItem.assignee_id)).all())
                self._speakers[code] = (ids, load)
        ids, load = self._speakers[code]
        if not ids:
            return None
        pick = min(ids, key=lambda i: (load.get(i, 0), i))
        load[pick] = load.get(pick, 0) + 1
        return pick

    # --- Writing ---------------------------------------------------------------------------------------
    #
    # Once every row is applied and none has a problem: each table's new rows in one COPY (ids taken first,
    # so rows referring to them can be built), the known people's changes, then the audit events, unsealed
    # (the worker seals them after the commit: the import never holds the chain's lock). Writing earlier, in chunks by a thread beside
    # the rules, was measured no faster on two cores (docs/benchmarks.md) and was taken out.

    def _write_new(self) -> None:
        """Ids, references, then each table's new rows in the order their foreign keys need."""
        now, actor_id = self.now, getattr(self.actor, "id", None)
        for name, model in _TABLE_ORDER.items():
            objects = getattr(self, name)
            for obj, new_id in zip(objects, _reserve_ids(model.__table__, len(objects)), strict=True):
                obj.id = new_id
        _give_references(self.cases)

        def person_row(p: _Person) -> tuple:
            return (p.id, p.first_name, p.last_name, p.date_of_birth, p.phone, p.email, p.address, p.postcode,
                    p.language, _id(p.household), now, now)

        tables = {  # each table's columns and how an object gives its row
            "new_households": (("id", "address", "postcode", "created_at"),
                               lambda h: (h.id, h.address, h.postcode, now)),
            "new_people": (("id", *_PERSON_COLUMNS, "household_id", "created_at", "updated_at"), person_row),
            "cases": (("id", "reference", "referral_id", "person_id", "test_date", "symptom_onset_date", "source",
                       "status", "isolation_end_date", "policy_id", "created_by_id", "created_at"),
                      lambda c: (c.id, c.reference, c.referral_id, c.person.id, c.test_date, c.symptom_onset_date,
                                 CaseSource.NATIONAL_REFERRAL, "open", c.isolation_end_date, c.policy.id, actor_id,
                                 now)),
            "contacts": (("id", "case_id", "referral_id", "person_id", "relationship", "last_exposure_date",
                          "quarantine_end_date", "status", "policy_id", "created_by_id", "created_at", "source"),
                         lambda c: (c.id, c.case.id, c.referral_id, c.person.id, c.relationship_,
                                    c.last_exposure_date, c.quarantine_end_date, "open", c.policy.id, actor_id, now,
                                    ContactSource.IMPORT)),
            "items": (("id", "kind", "case_id", "contact_id", "person_id", "status", "band", "is_household_raised",
                       "due_at", "created_at", "attempts", "closed_at", "language", "assignee_id"),
                      lambda i: (i.id, i.kind, _id(i.case), _id(i.contact), i.person.id,
                                 ItemStatus.ESCALATED if i.escalated else ItemStatus.OPEN, i.band, False, now, now, 0,
                                 now if i.escalated else None, i.language, i.assignee_id)),
            "escalations": (("id", "work_item_id", "person_id", "household_id", "reason", "detail", "status",
                             "created_at"),
                            lambda e: (e.id, e.item.id, e.person.id, _id(e.household), EscalationReason.NO_PHONE,
                                       None, "open", now)),
            "links": (("id", "token_hash", "purpose", "person_id", "case_id", "contact_id", "status",
                       "failed_attempts", "expires_at", "created_at"),
                      lambda k: (k.id, links.hash_token(k.token), LinkPurpose.CASE if k.case else LinkPurpose.CONTACT,
                                 k.person.id, _id(k.case), _id(k.contact), LinkStatus.NOT_STARTED, 0,
                                 now + timedelta(hours=self.link_hours), now)),
            "messages": (("id", "person_id", "direction", "channel", "trigger", "to_number", "body", "status",
                          "error_message", "next_attempt_at", "work_item_id", "status_updated_at", "attempts",
                          "needs_lookup", "created_at"),
                         lambda m: (m.id, m.person.id, "outbound", "sms", m.trigger, m.to_number,
                                    render(m.body, template_values(m.person, m.item.case, m.item.contact,
                                                                   links.link_url(m.link.token) if m.link else "",
                                                                   m.language)),
                                    MessageStatus.SKIPPED if m.skipped else MessageStatus.QUEUED, m.skipped,
                                    None if m.skipped else now, m.item.id, now, 0, False, now)),
        }
        for name, model in _TABLE_ORDER.items():
            if objects := getattr(self, name):
                columns, row = tables[name]
                insert_rows(model.__table__, columns, map(row, objects))

    def close(self) -> None:
        """Nothing is held between rows."""

    # --- Chunks: a large file in parts, each written before the next is read --------------------------------

    def begin_chunk(self, rows: list, carried: dict | None = None) -> None:
        """The next part of the file: read what its rows can touch. `carried` maps the referral ids its contacts
        name to cases from earlier parts (made by this file, or joined by it): read again here in a few queries."""
        self.rows = rows
        ids = sorted({case.id for case in (carried or {}).values() if case is not None and case.id is not None})
        for start in range(0, len(ids), _CHUNK):
            self._load_cases(ids=ids[start:start + _CHUNK])
        self.carried = {ref: self.cases_by_id[case.id] for ref, case in (carried or {}).items()
                        if case is not None and case.id in self.cases_by_id}
        self._preload()

    def end_chunk(self) -> None:
        """Write what this part's rows planned (in the import's transaction: a rejected file is rolled back
        whole), then forget it all. The next part reads what it needs again, from the database, where this
        transaction's writes are visible: people this file made are then known people, found by the same
        rules, and the import holds one part in memory, not the whole file."""
        self.write()
        stale = [*self.cases, *self.cases_by_id.values(), *(c for c in self.db_cases.values() if c is not None),
                 *(c for c in self.current_cases.values() if c is not None), *self.case_of.values()]
        for case in stale:  # the caller may keep these (a file's case for its contacts): keep only what it reads
            case.person = case.policy = None  # type: ignore[assignment]
        # Households are kept (a few small objects a postcode, now all with ids): read again, every part would
        # read every household at the file's postcodes, the ones this file made included.
        for name in ("people", "by_phone", "by_postcode", "db_cases", "case_of", "current_cases", "cases_by_id",
                     "loaded_keys", "pairs", "events", *_TABLE_ORDER):
            getattr(self, name).clear()
        self.generation += 1

    def write(self) -> None:
        self._write_new()
        self._update_people(self.now)
        origin = event_origin(self.actor)
        now = self.now

        def events():
            for event in self.events:
                details = ({k: _id(v) if hasattr(v, "id") else v for k, v in event.details.items()}
                           if event.details else None)
                yield {"at": now, **event_row(origin, event.action, _RECORD_TYPES[type(event.record)],
                                              event.record.id, details)}

        chain.insert_unsealed(db.session(), events())

    def _update_people(self, now: datetime) -> None:
        """The details a known person lacked, and the household they joined: column by column as the ORM
        would, so nothing else typed meanwhile is overwritten."""
        groups: dict[tuple, list[dict]] = defaultdict(list)
        for person in self.people.values():
            before = person.loaded
            current = {c: getattr(person, c) for c in FILLABLE} | {"household_id": _id(person.household)}
            changed = tuple(sorted(c for c, v in current.items() if v != before[c]))
            if changed:
                groups[changed].append({"person_id": person.id, **{c: current[c] for c in changed}})
        table = Person.__table__
        for columns, params in groups.items():
            db.session.execute(update(table).where(table.c.id == bindparam("person_id"))
                               .values(updated_at=now, **{c: bindparam(c) for c in columns}).execution_options(
                                   synchronize_session=False), params)


_TABLE_ORDER = {"new_households": Household, "new_people": Person, "cases": Case, "contacts": Contact,
                "items": WorkItem, "escalations": Escalation, "links": SelfServiceLink, "messages": Message}
_RECORD_TYPES = {_Person: "person", _Case: "case", _Contact: "contact", _Item: "workitem",
                 _Escalation: "escalation", _Link: "selfservicelink", _Message: "message"}


def _id(obj) -> int | None:
    return obj.id if obj is not None else None


def _likely_e164(raw: str) -> str | None:
    """A UK number's E.164 form for the common ways of writing one, without phonenumbers' full parse (a
    third of an import's time). Only to choose what to read ahead: matching uses the real normalised
    number, and reads whatever this guessed wrong when it needs it."""
    digits = raw.replace(" ", "").replace("-", "").replace("(", "").replace(")", "")
    if digits.startswith("+") and digits[1:].isdigit():
        return digits
    if digits.startswith("0") and digits.isdigit() and len(digits) in (10, 11):
        return "+44" + digits[1:]
    return None


def _clean(normalise, raw: str) -> str | None:
    try:
        return normalise(raw) if raw and raw.strip() else None
    except ValueError:
        return None


def _reserve_ids(table, n: int) -> list[int]:
    """Ids for n new rows, taken before they are written so that rows referring to them can be built."""
    if not n:
        return []
    if db.session.get_bind().dialect.name == "postgresql":
        # The sequence is looked up once: named in the nextval() call, it was looked up again for every id
        # (216 ms for 100,000 ids against 25 ms by its oid). The ids come back through the driver's cursor,
        # not the ORM's result (a few hundred thousand ids an import).
        sequence = db.session.scalar(text("SELECT CAST(CAST(pg_get_serial_sequence(:table, 'id') AS regclass) "
                                          "AS oid)"), {"table": table.name})
        raw = db.session.connection().connection.driver_connection
        with raw.cursor() as cursor:
            cursor.execute("SELECT nextval(CAST(%s AS regclass)) FROM generate_series(1, %s)", (sequence, n))
            return [i for (i,) in cursor]
    # SQLite: the import's transaction holds the database's write lock (BEGIN IMMEDIATE), so nobody else
    # can take the ids after the largest one.
    last = db.session.scalar(select(func.max(table.c.id))) or 0
    return list(range(last + 1, last + n + 1))


def _give_references(cases: list) -> None:
    """new_reference for every case: random, then any already taken (or drawn twice) drawn again."""
    wanted = [c for c in cases if c.reference is None]
    given: set[str] = set()
    while wanted:
        drawn = {}
        for case in wanted:
            ref = random_reference()
            if ref not in drawn and ref not in given:
                drawn[ref] = case
        taken = set()
        refs = sorted(drawn)
        for start in range(0, len(refs), _CHUNK):
            chunk = refs[start:start + _CHUNK]
            taken.update(db.session.scalars(select(Case.reference).where(Case.reference.in_(chunk))))
        for ref, case in drawn.items():
            if ref not in taken:
                case.reference = ref
                given.add(ref)
        wanted = [c for c in wanted if c.reference is None]
