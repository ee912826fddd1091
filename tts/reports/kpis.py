"""The KPIs in docs/kpis.md, computed for a date range of Europe/London creation dates."""
import statistics
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, or_, select, union_all

from tts.callqueue.models import CallAttempt, WorkItem
from tts.cases.models import Case, Contact
from tts.clock import london_midnight, utcnow
from tts.escalation.models import Escalation, Visit
from tts.extensions import db
from tts.jobs import LOCK_KPI, advisory_lock, job
from tts.outbreaks.models import Outbreak, Setting, SettingLink
from tts.people.models import Person
from tts.reports.filters import Filters
from tts.reports.reading import reading
from tts.selfservice.models import SelfServiceLink
from tts.support.models import SupportNeed
from tts.telephony.models import Message

NATIONAL_REFERENCE = {"cases": 78.0, "contacts": 72.0, "household_contacts": 50.0}


@dataclass
class Group:
    """One population (cases, contacts, ...): how many were created, and the hours each reached one took."""

    total: int = 0
    hours: list[float] = field(default_factory=list)  # created -> first reached by a call or visit
    text_hours: list[float] = field(default_factory=list)  # created -> confirmed their advice by text (contacts)
    any_hours: list[float] = field(default_factory=list)  # created -> the first of either

    def add(self, created: datetime, reached: datetime | None, by_text: datetime | None = None) -> None:
        self.total += 1
        if reached is not None:
            self.hours.append((reached - created).total_seconds() / 3600)
        if by_text is not None:
            self.text_hours.append((by_text - created).total_seconds() / 3600)
        first = min((t for t in (reached, by_text) if t is not None), default=None)
        if first is not None:
            self.any_hours.append((first - created).total_seconds() / 3600)

    @property
    def reached(self) -> int:
        return len(self.hours)

    @property
    def within_24h(self) -> int:
        return sum(1 for h in self.hours if h <= 24)

    def as_dict(self) -> dict:
        # Each figure once: at national scale a group holds hundreds of thousands of rows.
        total, reached, within = self.total, self.reached, self.within_24h
        pct = lambda n: round(100 * n / total, 1) if total else None  # noqa: E731
        by_text, text_24 = len(self.text_hours), sum(1 for h in self.text_hours if h <= 24)
        either, either_24 = len(self.any_hours), sum(1 for h in self.any_hours if h <= 24)
        return {"total": total, "reached": reached, "reached_pct": pct(reached),
                "reached_within_24h": within, "reached_within_24h_pct": pct(within),
                "median_hours_to_reach": round(statistics.median(self.hours), 1) if self.hours else None,
                "reached_by_text": by_text, "reached_by_text_pct": pct(by_text),
                "reached_by_text_within_24h": text_24, "reached_by_text_within_24h_pct": pct(text_24),
                "reached_any": either, "reached_any_pct": pct(either),
                "reached_any_within_24h": either_24, "reached_any_within_24h_pct": pct(either_24)}


class _Days:
    """Europe/London calendar day of an instant in [first day, last day]: a search among the days' starts,
    not a time-zone conversion per row."""

    def __init__(self, first: date, last: date):
        self.days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        self.starts = [london_midnight(d) for d in self.days]

    def __call__(self, moment: datetime) -> date:
        return self.days[max(0, bisect_right(self.starts, moment) - 1)]


def _aware(moment):
    return moment if moment is None or moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _reached_at(subject_column, since: datetime):
    """First moment each case (or contact) was reached: a `reached` call, or a doorstep visit that reached them.
    Only calls and visits from `since` (the range's start) are read: a subject created in the range cannot
    have been reached before it was created, and the call history before the range is most of the table."""
    calls = (select(subject_column.label("subject_id"), CallAttempt.created_at.label("at"))
             .join(CallAttempt, CallAttempt.work_item_id == WorkItem.id)
             .where(CallAttempt.outcome == "reached", CallAttempt.created_at >= since))
    visits = (select(subject_column.label("subject_id"), Visit.created_at.label("at"))
              .join(Escalation, Escalation.work_item_id == WorkItem.id).join(Visit, Visit.escalation_id == Escalation.id)
              .where(Visit.outcome == "reached", Visit.created_at >= since))
    both = union_all(calls, visits).subquery()
    return (select(both.c.subject_id, func.min(both.c.at).label("reached_at"))
            .where(both.c.subject_id.is_not(None)).group_by(both.c.subject_id).subquery())


def _confirmed_by_text(since: datetime):
    """When each contact confirmed their advice from the link in their text (reached by text)."""
    return (select(SelfServiceLink.contact_id, func.min(SelfServiceLink.completed_at).label("confirmed_at"))
            .where(SelfServiceLink.contact_id.is_not(None), SelfServiceLink.response == "confirmed",
                   SelfServiceLink.completed_at >= since)
            .group_by(SelfServiceLink.contact_id).subquery())


def snapshot_key(f: Filters) -> str:
    return f"kpis:{f.date_from}:{f.date_to}:{(f.district or '').strip().upper()}:{f.source or ''}"


def default_filters(on: date | None = None) -> Filters:
    """What the KPI page shows when opened: the last 14 days."""
    from tts.clock import today

    end = on or today()
    return Filters(end - timedelta(days=13), end)


def compute_cached(f: Filters) -> dict:
    """compute(f), shared between every web and worker process for TTS_KPI_CACHE_SECONDS (5 minutes)
    through a snapshot row; the answer's `computed_at` says how fresh it is.

    At national scale one computation takes tens of seconds of a core, so it must not run once per
    process, nor several times at once: one process computes (a PostgreSQL advisory lock per set of
    filters) while the others show the previous snapshot, or wait for it when there is none yet. The
    worker keeps the page's default view fresh (`refresh_default_kpis`), so it is rarely computed in a
    request at all."""
    ttl = current_app.config.get("TTS_KPI_CACHE_SECONDS", 0)
    if ttl <= 0:
        return {**compute(f), "computed_at": utcnow().isoformat(timespec="seconds")}
    key = snapshot_key(f)
    snapshot = _read_snapshot(key)
    if snapshot is not None and _age(snapshot) < ttl:
        return _answer(snapshot)
    if not _take_compute_lock(key, wait=snapshot is None):
        return {**_answer(snapshot), "refreshing": True}  # another process is computing: the last figures
    fresh = _read_snapshot(key)  # it may have been computed while this one waited for the lock
    if fresh is not None and _age(fresh) < ttl:
        return _answer(fresh)
    return _answer(_store(key, f))


@job("kpis_refreshed", lane="slow")
def refresh_default_kpis():
    """The worker's step: recompute the KPI page's default view once half its cache time has passed, so
    that analysts opening the page get figures at once. False when nothing needed doing."""
    ttl = current_app.config.get("TTS_KPI_CACHE_SECONDS", 0)
    if ttl <= 0 or not current_app.config.get("TTS_KPI_REFRESH_IN_WORKER", True):
        return False
    f = default_filters()
    key = snapshot_key(f)
    snapshot = _read_snapshot(key)
    if snapshot is not None and _age(snapshot) < ttl / 2:
        return False
    if not _take_compute_lock(key, wait=False):
        return False
    _store(key, f)
    yield "the figures stand, and their lock is released, before the old ones are removed"
    _forget_old_snapshots()
    return True


def _forget_old_snapshots() -> None:
    """Figures for filters nobody has asked for in a day (ad hoc ranges and districts): the worker's
    step removes them (only it, so that two requests never delete the same rows in different orders)."""
    from tts.reports.models import ReportSnapshot

    table = ReportSnapshot.__table__
    db.session.execute(table.delete().where(table.c.computed_at < utcnow() - timedelta(days=1)))


def _age(snapshot: dict) -> float:
    return (utcnow() - snapshot["computed_at"]).total_seconds()


def _answer(snapshot: dict) -> dict:
    return {**snapshot["value"], "computed_at": snapshot["computed_at"].isoformat(timespec="seconds")}


def _read_snapshot(key: str) -> dict | None:
    from tts.reports.models import ReportSnapshot

    table = ReportSnapshot.__table__
    row = db.session.execute(select(table.c.computed_at, table.c.value).where(table.c.key == key)).first()
    if row is None:
        return None
    return {"computed_at": _aware(row.computed_at), "value": row.value}


def _store(key: str, f: Filters) -> dict:
    """Compute and keep the figures (the caller's boundary commits them: the request, or the worker's job)."""
    import time

    from tts.reports.models import ReportSnapshot

    started = time.perf_counter()
    value = compute(f)
    at = utcnow()
    table = ReportSnapshot.__table__
    db.session.execute(table.delete().where(table.c.key == key))
    db.session.execute(table.insert().values(key=key, computed_at=at, value=value,
                                             seconds=round(time.perf_counter() - started, 3)))
    return {"computed_at": at, "value": value}


def _take_compute_lock(key: str, *, wait: bool) -> bool:
    """One computation per set of filters at a time, across processes: a PostgreSQL advisory lock held by
    this transaction (released when the request or job that computes commits). False when another holds
    it and `wait` is False."""
    return advisory_lock(LOCK_KPI, key, wait=wait)


def compute(f: Filters) -> dict:
    """The figures for these filters. Read through the reporting replica when one is set
    (TTS_REPORTING_DATABASE_URL: a read-only transaction on other cores than the call queue's), else the
    session's own connection."""
    with reading() as connection:
        return _compute(f, connection)


def _compute(f: Filters, connection) -> dict:
    case_reach = _reached_at(WorkItem.case_id, f.start)
    contact_reach = _reached_at(WorkItem.contact_id, f.start)
    case_stmt = (select(Case.created_at, case_reach.c.reached_at)
                 .outerjoin(case_reach, case_reach.c.subject_id == Case.id)
                 .where(Case.created_at >= f.start, Case.created_at < f.end))
    text_reach = _confirmed_by_text(f.start)
    contact_stmt = (select(Contact.created_at, contact_reach.c.reached_at, Contact.relationship_,
                           text_reach.c.confirmed_at)
                    .outerjoin(contact_reach, contact_reach.c.subject_id == Contact.id)
                    .outerjoin(text_reach, text_reach.c.contact_id == Contact.id)
                    .where(Contact.created_at >= f.start, Contact.created_at < f.end))
    # People and cases are joined only for a filter that needs them (every case and contact has both):
    # at national scale each join is a second's work.
    if f.district:
        district = f.district.strip().upper()
        # A full postcode in the district, or just the district (what retention leaves of a postcode).
        in_district = or_(Person.postcode.startswith(district + " "), Person.postcode == district)
        case_stmt = case_stmt.join(Person, Person.id == Case.person_id).where(in_district)
        contact_stmt = contact_stmt.join(Person, Person.id == Contact.person_id).where(in_district)
    if f.source:
        case_stmt = case_stmt.where(Case.source == f.source)
        contact_stmt = contact_stmt.join(Case, Case.id == Contact.case_id).where(Case.source == f.source)

    groups = {name: Group() for name in ("cases", "contacts", "household_contacts", "non_household_contacts")}
    days: dict[str, dict[date, Group]] = {name: {} for name in groups}
    day_of = _Days(f.date_from, f.date_to)

    def add(names: tuple[str, ...], created, reached, by_text=None) -> None:
        created, reached, by_text = _aware(created), _aware(reached), _aware(by_text)
        day = day_of(created)
        for name in names:
            groups[name].add(created, reached, by_text)
            per_day = days[name].get(day)
            if per_day is None:
                per_day = days[name][day] = Group()
            per_day.add(created, reached, by_text)

    # Fetched in batches (one fetchmany per 10,000 rows instead of one fetch a row).
    for batch in connection.execute(case_stmt).partitions(10_000):
        for created, reached in batch:
            add(("cases",), created, reached)
    household, other = ("contacts", "household_contacts"), ("contacts", "non_household_contacts")
    for batch in connection.execute(contact_stmt).partitions(10_000):
        for created, reached, relationship, by_text in batch:
            add(household if relationship == "household" else other, created, reached, by_text)

    # Split by the kind of setting the case or contact attended (one attending two kinds counts in both).
    by_kind: dict[str, dict[str, Group]] = {}
    for name, stmt, subject in (("cases", case_stmt, SettingLink.case_id == Case.id),
                                ("contacts", contact_stmt, SettingLink.contact_id == Contact.id)):
        linked = (stmt.add_columns(Setting.kind).join(SettingLink, subject)
                  .join(Setting, Setting.id == SettingLink.setting_id))
        for row in connection.execute(linked):
            kind = row[-1]
            group = by_kind.setdefault(kind, {"cases": Group(), "contacts": Group()})[name]
            group.add(_aware(row[0]), _aware(row[1]), _aware(row[3]) if name == "contacts" else None)
    opened = dict(connection.execute(select(Setting.kind, func.count()).join(Outbreak, Outbreak.setting_id == Setting.id)
                                     .where(Outbreak.opened_at >= f.start, Outbreak.opened_at < f.end)
                                     .group_by(Setting.kind)).all())
    live = dict(connection.execute(select(Setting.kind, func.count()).join(Outbreak, Outbreak.setting_id == Setting.id)
                                   .where(Outbreak.status != "closed").group_by(Setting.kind)).all())
    by_setting_kind = {kind: {"cases": groups_["cases"].as_dict(), "contacts": groups_["contacts"].as_dict(),
                              "outbreaks_opened": opened.get(kind, 0), "outbreaks_live": live.get(kind, 0)}
                       for kind, groups_ in sorted(by_kind.items())}
    for kind in sorted((set(opened) | set(live)) - set(by_kind)):
        by_setting_kind[kind] = {"cases": Group().as_dict(), "contacts": Group().as_dict(),
                                 "outbreaks_opened": opened.get(kind, 0), "outbreaks_live": live.get(kind, 0)}

    lifecycle = {}
    for name, model in (("cases", Case), ("contacts", Contact)):
        # The same records as the reach figures (same dates and filters): how many are in each status, and
        # why those closed by hand were closed.
        stmt = (select(model.status, model.closure_reason, func.count())
                .where(model.created_at >= f.start, model.created_at < f.end)
                .group_by(model.status, model.closure_reason))
        if f.district:
            stmt = stmt.join(Person, Person.id == model.person_id).where(in_district)
        if f.source:
            stmt = (stmt.where(Case.source == f.source) if model is Case
                    else stmt.join(Case, Case.id == Contact.case_id).where(Case.source == f.source))
        counts = connection.execute(stmt).all()
        statuses: dict[str, int] = {}
        reasons: dict[str, int] = {}
        for status, reason, n in counts:
            statuses[status] = statuses.get(status, 0) + n
            if reason:
                reasons[reason] = reasons.get(reason, 0) + n
        lifecycle[name] = {"by_status": statuses, "closed_by_reason": reasons}
    escalations = {
        "opened": connection.scalar(select(func.count()).select_from(Escalation)
                                    .where(Escalation.created_at >= f.start, Escalation.created_at < f.end)),
        "resolved": connection.scalar(select(func.count()).select_from(Escalation)
                                      .where(Escalation.resolved_at >= f.start, Escalation.resolved_at < f.end)),
    }
    support = {}
    for kind, status, n in connection.execute(select(SupportNeed.kind, SupportNeed.status, func.count())
                                              .where(SupportNeed.created_at >= f.start, SupportNeed.created_at < f.end)
                                              .group_by(SupportNeed.kind, SupportNeed.status)):
        support.setdefault(kind, {})[status] = n
    messages = dict(connection.execute(select(Message.status, func.count()).where(
        Message.direction == "outbound", Message.created_at >= f.start, Message.created_at < f.end)
        .group_by(Message.status)).all())
    result = {name: group.as_dict() for name, group in groups.items()}
    result.update({
        "escalations": escalations,
        "by_setting_kind": by_setting_kind,
        "lifecycle": lifecycle,
        "support_needs": support,
        "messages": {"sent": sum(messages.get(s, 0) for s in ("sending", "sent", "delivered", "undelivered")),
                     "delivered": messages.get("delivered", 0),
                     "failed": messages.get("failed", 0) + messages.get("undelivered", 0),
                     "skipped": messages.get("skipped", 0)},
        "by_day": {name: {d.isoformat(): g.as_dict() for d, g in sorted(per_day.items())}
                   for name, per_day in days.items()},
        "hours_to_reach": {name: _histogram(group.hours) for name, group in groups.items()},
    })
    return result


HOUR_BUCKETS = [(0, 1, "under 1 h"), (1, 4, "1–4 h"), (4, 12, "4–12 h"), (12, 24, "12–24 h"), (24, 48, "24–48 h"),
                (48, None, "over 48 h")]


def _histogram(hours: list[float]) -> list[dict]:
    return [{"label": label, "count": sum(1 for h in hours if h >= low and (high is None or h < high))}
            for low, high, label in HOUR_BUCKETS]


def suppress(value, threshold: int):
    """Statistical disclosure control for published tables: small counts become "[c]"."""
    return "[c]" if isinstance(value, int) and 0 < value < threshold else value


def publication_rows(kpis: dict, threshold: int) -> list[list]:
    """The KPI table for publication: counts under the threshold, and percentages built on them, suppressed."""
    rows = [["measure", "total", "reached", "reached_pct", "reached_within_24h", "reached_within_24h_pct",
             "median_hours_to_reach", "reached_by_text", "reached_by_text_pct"]]
    for name in ("cases", "contacts", "household_contacts", "non_household_contacts"):
        k = kpis[name]
        small_total = 0 < k["total"] < threshold
        small_reached = 0 < k["reached"] < threshold
        small_24 = 0 < k["reached_within_24h"] < threshold
        rows.append([name, suppress(k["total"], threshold), suppress(k["reached"], threshold),
                     "[c]" if (small_total or small_reached) else k["reached_pct"],
                     suppress(k["reached_within_24h"], threshold),
                     "[c]" if (small_total or small_24) else k["reached_within_24h_pct"],
                     "[c]" if small_reached else k["median_hours_to_reach"],
                     suppress(k["reached_by_text"], threshold),
                     "[c]" if (small_total or 0 < k["reached_by_text"] < threshold) else k["reached_by_text_pct"]])
    rows.append(["escalations_opened", suppress(kpis["escalations"]["opened"], threshold)])
    rows.append(["escalations_resolved", suppress(kpis["escalations"]["resolved"], threshold)])
    return rows
