"""Outbreaks: the cluster rule that opens one by itself, opening one by hand, its actions and status, its
transmission chain and epidemic curve, and the worker's proposal to close a quiet one.

The cluster rule (`cluster_check`) runs whenever a case is linked to a setting. It takes the setting's row
lock first, so two cases linked at the same moment on two servers are counted one after the other: exactly
one outbreak opens. The partial unique index `uq_outbreaks_live_setting` (one live outbreak per setting)
backs it up in the database.
"""
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tts.audit.services import record_event
from tts.cases.models import Case, ClosureReason, Contact
from tts.clock import today, utcnow
from tts.errors import DomainError, ErrorCollector
from tts.extensions import db
from tts.jobs import job
from tts.outbreaks.models import (RECORDABLE_ACTIONS, ActionKind, Outbreak, OutbreakAction, OutbreakCase,
                                  OutbreakStatus, Setting, SettingKind, SettingLink)
from tts.outbreaks.settings import LINK_SOURCES, check_attended

LOCK_CLOSURES = 7216
# Cases closed as these never happened: they do not count towards a cluster.
NOT_CASES = (ClosureReason.DUPLICATE.value, ClosureReason.ENTERED_IN_ERROR.value)
REFERENCE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ23456789"


class OutbreakConflict(DomainError):
    http_status = 409

    def __init__(self, message: str, **extra):
        super().__init__(message)
        self.extra = extra


def live_outbreak(setting_id: int) -> Outbreak | None:
    return db.session.scalar(select(Outbreak).where(Outbreak.setting_id == setting_id,
                                                    Outbreak.status != OutbreakStatus.CLOSED))


def _lock_setting(setting: Setting) -> None:
    """Serialise the cluster rule per setting (PostgreSQL: the row lock, until the transaction ends). FOR NO KEY
    UPDATE: it waits for another cluster check, but not for the key-share locks that inserting rows which
    refer to the setting (links, outbreaks) take, so those never deadlock against it."""
    db.session.execute(select(Setting.id).where(Setting.id == setting.id).with_for_update(key_share=True))


# -- linking -------------------------------------------------------------------------------------------------

def link(actor, setting: Setting | None, *, case: Case | None = None, contact: Contact | None = None,
         last_attended: date | None = None, source: str = "staff") -> SettingLink:
    """Record that a case (or contact) attended a setting; linking again keeps the later date. A case's link
    runs the cluster rule."""
    errors = ErrorCollector()
    if setting is None:
        errors.add("setting_id", "Choose a setting from the register")
    check_attended(errors, last_attended)
    errors.raise_if_any()
    assert source in LINK_SOURCES and (case is None) != (contact is None)
    subject = {"case_id": case.id} if case is not None else {"contact_id": contact.id}
    if case is not None:
        _lock_setting(setting)  # before the link is written: the cluster rule counts it with the others
    found = db.session.scalar(select(SettingLink).filter_by(setting_id=setting.id, **subject))
    if found is not None:
        if last_attended is not None and (found.last_attended is None or last_attended > found.last_attended):
            found.last_attended = last_attended
    else:
        found = SettingLink(setting=setting, last_attended=last_attended, source=source,
                            created_by_id=getattr(actor, "id", None), **subject)
        db.session.add(found)
        db.session.flush()
    person_id = (case or contact).person_id
    record_event(actor, "setting.link", found, {"setting_id": setting.id, **subject, "person_id": person_id,
                                                "source": source})
    if case is not None:
        cluster_check(actor, setting, case)
    return found


def carry_links(actor, contact: Contact, case: Case) -> None:
    """A contact became a case: the settings they attended are the case's too (and may make a cluster)."""
    for found in db.session.scalars(select(SettingLink).where(SettingLink.contact_id == contact.id)).all():
        link(actor, found.setting, case=case, last_attended=found.last_attended, source=found.source)


# -- the cluster rule ----------------------------------------------------------------------------------------

@dataclass
class Cluster:
    cases: list[Case]
    first: date
    last: date


def _linked_cases(setting_id: int, since: date, until: date) -> list[Case]:
    return list(db.session.scalars(
        select(Case).join(SettingLink, SettingLink.case_id == Case.id)
        .where(SettingLink.setting_id == setting_id, Case.test_date >= since, Case.test_date <= until,
               (Case.closure_reason.is_(None)) | (Case.closure_reason.not_in(NOT_CASES)))
        .order_by(Case.test_date, Case.id)))


def find_cluster(setting_id: int, around: Case) -> Cluster | None:
    """TTS_CLUSTER_CASES cases or more linked to the setting whose test dates are no more than
    TTS_CLUSTER_DAYS days apart, `around` among them; the largest such group."""
    needed, days = current_app.config["TTS_CLUSTER_CASES"], current_app.config["TTS_CLUSTER_DAYS"]
    t = around.test_date
    near = _linked_cases(setting_id, t - timedelta(days=days), t + timedelta(days=days))
    best: list[Case] = []
    for start in {c.test_date for c in near if c.test_date <= t}:
        group = [c for c in near if start <= c.test_date <= start + timedelta(days=days)]
        if len(group) > len(best) and any(c.id == around.id for c in group):
            best = group
    if len(best) < needed:
        return None
    return Cluster(best, best[0].test_date, best[-1].test_date)


def cluster_check(actor, setting: Setting, case: Case) -> Outbreak | None:
    """Run the cluster rule for a case just linked to a setting: a live outbreak there takes the case in;
    otherwise, enough cases close in time open one. Returns the outbreak the case is now in, if any."""
    _lock_setting(setting)
    outbreak = live_outbreak(setting.id)
    if outbreak is not None:
        _add_case(actor, outbreak, case)
        return outbreak
    cluster = find_cluster(setting.id, case)
    if cluster is None:
        return None
    reason = (f"{len(cluster.cases)} cases linked to the setting with test dates from {cluster.first:%-d %B} to "
              f"{cluster.last:%-d %B %Y} (the rule: {current_app.config['TTS_CLUSTER_CASES']} within "
              f"{current_app.config['TTS_CLUSTER_DAYS']} days)")
    return _open(None, setting, cluster.cases, reason)


def _new_reference() -> str:
    while True:
        ref = "OB-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
        if db.session.scalar(select(Outbreak.id).where(Outbreak.reference == ref)) is None:
            return ref


def setting_call(setting: Setting) -> tuple[int, str]:
    """The first piece of work an outbreak sets: call the setting's contact (care homes first)."""
    band = 1 if setting.kind == SettingKind.CARE_HOME else 2
    who = setting.contact_name or "the person in charge"
    from tts.people.validation import format_phone

    number = (f" on {format_phone(setting.contact_phone)}" if setting.contact_phone
              else " (no number on record: find one)")
    return band, f"Call {who}{number}: tell them about the outbreak, ask who else is unwell, and give advice."


def _open(actor, setting: Setting, cases: list[Case], reason: str) -> Outbreak:
    outbreak = Outbreak(reference=_new_reference(), setting=setting, opened_by_id=getattr(actor, "id", None),
                        opened_reason=reason, status=OutbreakStatus.OPEN)
    try:
        with db.session.begin_nested():
            db.session.add(outbreak)
            db.session.flush()
    except IntegrityError:  # another transaction opened it a moment ago (the lock makes this rare)
        outbreak = live_outbreak(setting.id)
        if outbreak is None:
            raise
        for case in cases:
            _add_case(actor, outbreak, case)
        return outbreak
    for case in cases:
        db.session.add(OutbreakCase(outbreak=outbreak, case_id=case.id))
    band, notes = setting_call(setting)
    db.session.add(OutbreakAction(outbreak=outbreak, kind=ActionKind.CALL_SETTING, notes=notes, band=band,
                                  due_date=today()))
    db.session.flush()
    record_event(actor, "outbreak.open", outbreak, {"setting_id": setting.id, "case_ids": [c.id for c in cases],
                                                    "by_rule": actor is None})
    return outbreak


def _add_case(actor, outbreak: Outbreak, case: Case) -> None:
    if db.session.scalar(select(OutbreakCase.id).filter_by(outbreak_id=outbreak.id, case_id=case.id)):
        return
    db.session.add(OutbreakCase(outbreak=outbreak, case_id=case.id))
    outbreak.closure_proposed_at = None  # a new case: not quiet any more
    if outbreak.status == OutbreakStatus.MONITORING:
        _set_status(None, outbreak, OutbreakStatus.OPEN, f"A new case ({case.reference}) was linked to the setting")
    db.session.flush()
    record_event(actor, "outbreak.add_case", outbreak, {"case_id": case.id, "person_id": case.person_id})


def open_outbreak(actor, setting: Setting, *, reason: str | None, case_ids: list[int] | None = None) -> Outbreak:
    """A supervisor opens an outbreak by hand (one case may be enough: a care home's first death, say).
    Cases linked to the setting in the last TTS_CLUSTER_DAYS days are in it, and any others named."""
    errors = ErrorCollector()
    if not (reason or "").strip():
        errors.add("reason", "Say why you are opening an outbreak")
    errors.raise_if_any()
    _lock_setting(setting)
    existing = live_outbreak(setting.id)
    if existing is not None:
        raise OutbreakConflict(f"{setting.name} already has an outbreak ({existing.reference}, "
                               f"{existing.status_label.lower()})", existing_outbreak_id=existing.id)
    days = current_app.config["TTS_CLUSTER_DAYS"]
    cases = _linked_cases(setting.id, today() - timedelta(days=days), today())
    named = [db.session.get(Case, i) for i in case_ids or () if i not in {c.id for c in cases}]
    missing = [i for i, c in zip(case_ids or (), named) if c is None]
    if missing:
        errors.add("case_ids", f"No case has the id {missing[0]}")
        errors.raise_if_any()
    return _open(actor, setting, cases + [c for c in named if c is not None], reason.strip())


# -- actions and status --------------------------------------------------------------------------------------

def add_action(actor, outbreak: Outbreak, *, kind: str | None, notes: str | None, due_date: date | None,
               done: bool | None = None) -> OutbreakAction:
    """Record a step: done now, or (with a due date and not done) still to do."""
    errors = ErrorCollector()
    if kind not in {k.value for k in RECORDABLE_ACTIONS}:
        errors.add("kind", "Choose what was done: " + ", ".join(k.value for k in RECORDABLE_ACTIONS))
    notes = (notes or "").strip() or None
    if notes is not None and len(notes) > 5000:
        errors.add("notes", "Keep the notes to 5,000 characters")
    if done is False and due_date is None:
        errors.add("due_date", "Enter when it is due, or mark it done")
    if outbreak.status == OutbreakStatus.CLOSED:
        errors.add("kind", "This outbreak is closed: reopen it to record more")
    errors.raise_if_any()
    is_done = done if done is not None else due_date is None or due_date <= today()
    action = OutbreakAction(outbreak=outbreak, kind=kind, notes=notes, due_date=due_date, band=3,
                            created_by_id=getattr(actor, "id", None))
    if is_done:
        action.done_at, action.done_by_id = utcnow(), getattr(actor, "id", None)
    db.session.add(action)
    db.session.flush()
    record_event(actor, "outbreak.action", outbreak, {"action_id": action.id, "kind": kind, "done": is_done})
    return action


def complete_action(actor, action: OutbreakAction, notes: str | None = None) -> OutbreakAction:
    if action.done_at is not None:
        raise OutbreakConflict("This action is already done")
    action.done_at, action.done_by_id = utcnow(), getattr(actor, "id", None)
    if (notes or "").strip():
        action.notes = f"{action.notes}\n\nDone: {notes.strip()}" if action.notes else notes.strip()
    db.session.flush()
    record_event(actor, "outbreak.action_done", action.outbreak, {"action_id": action.id, "kind": action.kind})
    return action


def _set_status(actor, outbreak: Outbreak, status: str, reason: str) -> None:
    before = outbreak.status
    outbreak.status, outbreak.status_reason = status, reason
    if status == OutbreakStatus.CLOSED:
        outbreak.closed_at, outbreak.closed_by_id = utcnow(), getattr(actor, "id", None)
    else:
        outbreak.closed_at = outbreak.closed_by_id = None
    db.session.add(OutbreakAction(outbreak=outbreak, kind=ActionKind.STATUS_CHANGED, band=3,
                                  notes=f"{OutbreakStatus.label_of(before)} to {OutbreakStatus.label_of(status)}: "
                                        f"{reason}", created_by_id=getattr(actor, "id", None),
                                  done_at=utcnow(), done_by_id=getattr(actor, "id", None)))
    record_event(actor, "outbreak.status", outbreak, {"from": before, "to": status})


def change_status(actor, outbreak: Outbreak, *, status: str | None, reason: str | None) -> Outbreak:
    errors = ErrorCollector()
    if status not in OutbreakStatus.labels():
        errors.add("status", "Choose a status: " + ", ".join(OutbreakStatus.labels()))
    if not (reason or "").strip():
        errors.add("reason", "Say why the status is changing")
    elif status == outbreak.status:
        errors.add("status", f"It is already {outbreak.status_label.lower()}")
    errors.raise_if_any()
    if outbreak.status == OutbreakStatus.CLOSED:
        _lock_setting(outbreak.setting)
        other = live_outbreak(outbreak.setting_id)
        if other is not None:
            raise OutbreakConflict(f"The setting has another live outbreak ({other.reference}): it cannot be "
                                   f"reopened", existing_outbreak_id=other.id)
    if status != OutbreakStatus.CLOSED:
        outbreak.closure_proposed_at = None
    _set_status(actor, outbreak, status, reason.strip())
    db.session.flush()
    return outbreak


@job("outbreak_closures", lane="slow", lock=LOCK_CLOSURES)
def propose_closures(on: date | None = None) -> int:
    """Live outbreaks with no new case (by test date; one opened by hand with no case yet, since it opened) for
    TTS_OUTBREAK_QUIET_DAYS days: the worker proposes closing them, as an action for a supervisor (who
    decides). Each is proposed once until a new case."""
    on = on or today()
    quiet = current_app.config["TTS_OUTBREAK_QUIET_DAYS"]
    candidates = db.session.scalars(select(Outbreak).where(Outbreak.status != OutbreakStatus.CLOSED,
                                                           Outbreak.closure_proposed_at.is_(None))).all()
    if not candidates:
        return 0
    last = dict(db.session.execute(
        select(OutbreakCase.outbreak_id, func.max(Case.test_date)).join(Case, Case.id == OutbreakCase.case_id)
        .where(OutbreakCase.outbreak_id.in_([o.id for o in candidates])).group_by(OutbreakCase.outbreak_id)).all())
    due = [o for o in candidates if (last.get(o.id) or o.opened_at.date()) <= on - timedelta(days=quiet)]
    for outbreak in due:
        outbreak.closure_proposed_at = utcnow()
        since = last.get(outbreak.id)
        why = (f"the last tested {since:%-d %B %Y}" if since else f"it opened {outbreak.opened_at:%-d %B %Y} with none")
        db.session.add(OutbreakAction(
            outbreak=outbreak, kind=ActionKind.CLOSURE_ADVISED, band=3, due_date=on,
            notes=f"No new case for {quiet} days ({why}): close the outbreak if the setting agrees"))
        record_event(None, "outbreak.closure_proposed", outbreak, {"quiet_days": quiet})
    db.session.flush()
    return len(due)


# -- reading -------------------------------------------------------------------------------------------------

def case_ids(outbreak: Outbreak) -> list[int]:
    return [m.case_id for m in outbreak.members]


def member_cases(outbreak: Outbreak) -> list[Case]:
    from sqlalchemy.orm import selectinload

    return list(db.session.scalars(
        select(Case).join(OutbreakCase, OutbreakCase.case_id == Case.id)
        .where(OutbreakCase.outbreak_id == outbreak.id)
        .options(selectinload(Case.person)).order_by(Case.test_date, Case.id)))


def chain(cases: list[Case]) -> list[tuple[Case, Case]]:
    """Who caught it from whom among the outbreak's cases (a contact of one became the other)."""
    by_id = {c.id: c for c in cases}
    return [(by_id[c.exposed_by_case_id], c) for c in cases if c.exposed_by_case_id in by_id]


def contacts_of(outbreak: Outbreak, cases: list[Case]) -> list[Contact]:
    """The contacts elicited from its cases, and contacts linked to the setting itself."""
    from sqlalchemy.orm import selectinload

    from sqlalchemy import union

    ids = [c.id for c in cases]
    linked = select(SettingLink.contact_id).where(SettingLink.setting_id == outbreak.setting_id,
                                                  SettingLink.contact_id.is_not(None))
    # A union, not an OR: each side uses its own index (an OR of the two reads every contact).
    wanted = union(select(Contact.id).where(Contact.case_id.in_(ids)), linked).subquery()
    return list(db.session.scalars(
        select(Contact).where(Contact.id.in_(select(wanted.c[0])))
        .options(selectinload(Contact.person)).order_by(Contact.last_exposure_date.desc(), Contact.id).limit(500)))


def epicurve(cases: list[Case]) -> list[dict]:
    """Cases by day of onset (the test date when they had no symptoms), every day from the first to the last."""
    if not cases:
        return []
    days: dict[date, dict] = {}
    for case in cases:
        day = case.symptom_onset_date or case.test_date
        row = days.setdefault(day, {"onset": 0, "test": 0})
        row["onset" if case.symptom_onset_date else "test"] += 1
    first, last = min(days), max(days)
    return [{"day": first + timedelta(days=i), **days.get(first + timedelta(days=i), {"onset": 0, "test": 0})}
            for i in range((last - first).days + 1)]


def waiting_actions(limit: int = 20) -> list[OutbreakAction]:
    """Outbreak work not yet done, for the supervisors' dashboard: band (care homes' calls first), then due."""
    from sqlalchemy.orm import joinedload

    return list(db.session.scalars(
        select(OutbreakAction).where(OutbreakAction.done_at.is_(None))
        .join(Outbreak).where(Outbreak.status != OutbreakStatus.CLOSED)
        .options(joinedload(OutbreakAction.outbreak).joinedload(Outbreak.setting))
        .order_by(OutbreakAction.band, OutbreakAction.due_date, OutbreakAction.id).limit(limit)))


def live_outbreaks(limit: int = 5) -> tuple[int, list[Outbreak]]:
    """How many outbreaks are live, and the newest `limit` of them (the dashboard's banner)."""
    from sqlalchemy.orm import joinedload

    live = Outbreak.status != OutbreakStatus.CLOSED
    count = db.session.scalar(select(func.count()).select_from(Outbreak).where(live)) or 0
    newest = list(db.session.scalars(select(Outbreak).where(live).options(joinedload(Outbreak.setting))
                                     .order_by(Outbreak.opened_at.desc(), Outbreak.id.desc()).limit(limit))) if count else []
    return count, newest


def live_outbreaks_at(setting_ids: list[int]) -> dict[int, Outbreak]:
    """The live outbreak of each of these settings that has one."""
    if not setting_ids:
        return {}
    return {o.setting_id: o for o in db.session.scalars(
        select(Outbreak).where(Outbreak.setting_id.in_(setting_ids), Outbreak.status != OutbreakStatus.CLOSED))}


# -- places named in people's own words ----------------------------------------------------------------------

def waiting_mentions(limit: int = 100) -> list:
    from sqlalchemy.orm import joinedload

    from tts.outbreaks.models import SettingMention

    return list(db.session.scalars(select(SettingMention).where(SettingMention.status == "waiting")
                                   .options(joinedload(SettingMention.case).joinedload(Case.person),
                                            joinedload(SettingMention.contact).joinedload(Contact.person))
                                   .order_by(SettingMention.created_at, SettingMention.id).limit(limit)))


def count_waiting_mentions() -> int:
    from tts.outbreaks.models import SettingMention

    return db.session.scalar(select(func.count()).select_from(SettingMention)
                             .where(SettingMention.status == "waiting")) or 0


def match_mention(actor, mention, setting: Setting | None, last_attended: date | None = None):
    """A supervisor matched a place someone named to a setting in the register: the case is linked to it
    (the cluster rule runs)."""
    if mention.status != "waiting":
        raise OutbreakConflict("This place was already dealt with")
    found = link(actor, setting, case=mention.case, contact=mention.contact,
                 last_attended=last_attended or mention.last_attended,
                 source="self_service" if mention.source == "self_service" else "import")
    mention.status, mention.setting_id = "matched", setting.id
    mention.resolved_by_id, mention.resolved_at = getattr(actor, "id", None), utcnow()
    record_event(actor, "setting.mention_matched", mention, {"setting_id": setting.id, "case_id": mention.case_id,
                                                           "contact_id": mention.contact_id,
                                                           "person_id": mention.subject.person_id})
    return found


def dismiss_mention(actor, mention) -> None:
    if mention.status != "waiting":
        raise OutbreakConflict("This place was already dealt with")
    mention.status, mention.resolved_by_id, mention.resolved_at = "dismissed", getattr(actor, "id", None), utcnow()
    record_event(actor, "setting.mention_dismissed", mention, {"case_id": mention.case_id,
                                                             "contact_id": mention.contact_id,
                                                             "person_id": mention.subject.person_id})


def add_mention(record, text: str, *, source: str, last_attended: date | None = None):
    """A place named in someone's own words (the online form, an import's setting column), to be matched."""
    from tts.outbreaks.models import SettingMention

    subject = {"case_id": record.id} if isinstance(record, Case) else {"contact_id": record.id}
    mention = SettingMention(text=text[:300], source=source, last_attended=last_attended, **subject)
    db.session.add(mention)
    return mention


def find_setting(name: str, postcode: str | None) -> Setting | None:
    """The register's setting of this name (case, spacing and punctuation ignored) at this postcode; without a
    postcode, the only one of the name."""
    from tts.outbreaks.settings import name_key

    query = select(Setting).where(Setting.name_key == name_key(name))
    if postcode:
        query = query.where(Setting.postcode == postcode)
    found = db.session.scalars(query.limit(2)).all()
    return found[0] if len(found) == 1 else None
