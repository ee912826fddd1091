"""Settings (care homes, schools, workplaces...), who attended them, and the outbreaks found in them."""
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tts.clock import utcnow
from tts.extensions import db
from tts.models_base import Labelled, UTCDateTime, WithStatus

if TYPE_CHECKING:
    from tts.auth.models import User
    from tts.cases.models import Case, Contact


class SettingKind(Labelled):
    CARE_HOME = "care_home", "Care home"
    SCHOOL = "school", "School or nursery"
    WORKPLACE = "workplace", "Workplace"
    HOSPITAL = "hospital", "Hospital"
    HOSPITALITY = "hospitality", "Hospitality: pub, restaurant, hotel"
    OTHER = "other", "Other"


class Setting(db.Model):
    """A place people gather. Name + postcode identify it: the register refuses a second one."""

    __tablename__ = "settings"
    __table_args__ = (UniqueConstraint("name_key", "postcode", name="uq_settings_name_postcode"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # The name folded for comparison (case and spacing ignored): what the duplicate rule and the search use.
    name_key: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    address: Mapped[str | None] = mapped_column(Text)
    postcode: Mapped[str] = mapped_column(String(10))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    size: Mapped[int | None]  # people who attend it (residents and staff, pupils and staff...)
    notes: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def kind_label(self) -> str:
        return SettingKind.label_of(self.kind)


class SettingLink(db.Model):
    """A case or a contact attended a setting (last on `last_attended`)."""

    __tablename__ = "setting_links"
    __table_args__ = (
        CheckConstraint("(case_id IS NULL) <> (contact_id IS NULL)", name="one_subject"),
        UniqueConstraint("setting_id", "case_id", name="uq_setting_links_case"),
        UniqueConstraint("setting_id", "contact_id", name="uq_setting_links_contact"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    setting_id: Mapped[int] = mapped_column(ForeignKey("settings.id"))  # served by the unique constraints
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    last_attended: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(12), default="staff")  # staff, self_service, import, api
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    setting: Mapped[Setting] = relationship(Setting)
    case: Mapped["Case | None"] = relationship("Case")
    contact: Mapped["Contact | None"] = relationship("Contact")


class SettingMention(db.Model):
    """A place a case named on the online form, in their own words, waiting for a supervisor to match it to
    a setting in the register (or to add one)."""

    __tablename__ = "setting_mentions"
    __table_args__ = (Index("ix_setting_mentions_waiting", "created_at", postgresql_where=text("status = 'waiting'"),
                            sqlite_where=text("status = 'waiting'")),
                      CheckConstraint("(case_id IS NULL) <> (contact_id IS NULL)", name="one_subject"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(12), default="self_service")  # self_service, import
    last_attended: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="waiting")  # waiting, matched, dismissed
    setting_id: Mapped[int | None] = mapped_column(ForeignKey("settings.id"))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    case: Mapped["Case | None"] = relationship("Case")
    contact: Mapped["Contact | None"] = relationship("Contact")
    setting: Mapped[Setting | None] = relationship(Setting)

    @property
    def subject(self):
        return self.case if self.case_id is not None else self.contact


class OutbreakStatus(Labelled):
    OPEN = "open", "Open", "red"
    MONITORING = "monitoring", "Monitoring", "yellow"
    CLOSED = "closed", "Closed", "grey"


LIVE_OUTBREAK = text("status <> 'closed'")


class Outbreak(WithStatus, db.Model):
    """Cases linked to one setting, close together in time. At most one is live (not closed) per setting:
    the database refuses a second, whatever the races."""

    __tablename__ = "outbreaks"
    STATUS = OutbreakStatus
    __table_args__ = (
        Index("uq_outbreaks_live_setting", "setting_id", unique=True, postgresql_where=LIVE_OUTBREAK,
              sqlite_where=LIVE_OUTBREAK),
        Index("ix_outbreaks_status_opened", "status", "opened_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    setting_id: Mapped[int] = mapped_column(ForeignKey("settings.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default=OutbreakStatus.OPEN)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: found by the cluster rule
    opened_reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status_reason: Mapped[str | None] = mapped_column(Text)  # why it last changed status
    # The worker's proposal: no new case for TTS_OUTBREAK_QUIET_DAYS (a supervisor decides).
    closure_proposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    setting: Mapped[Setting] = relationship(Setting)
    opened_by: Mapped["User | None"] = relationship("User", foreign_keys=[opened_by_id])
    members: Mapped[list["OutbreakCase"]] = relationship(back_populates="outbreak", order_by="OutbreakCase.id")
    actions: Mapped[list["OutbreakAction"]] = relationship(back_populates="outbreak",
                                                           order_by="OutbreakAction.created_at.desc()")

    @property
    def found_by_rule(self) -> bool:
        return self.opened_by_id is None


class OutbreakCase(db.Model):
    __tablename__ = "outbreak_cases"
    __table_args__ = (UniqueConstraint("outbreak_id", "case_id", name="uq_outbreak_cases"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outbreak_id: Mapped[int] = mapped_column(ForeignKey("outbreaks.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    outbreak: Mapped[Outbreak] = relationship(back_populates="members")
    case: Mapped["Case"] = relationship("Case")


class ActionKind(Labelled):
    CALL_SETTING = "call_setting", "Call the setting"
    RISK_ASSESSMENT = "risk_assessment", "Risk assessment"
    ADVICE_GIVEN = "advice_given", "Advice given"
    TESTING_ARRANGED = "testing_arranged", "Testing arranged"
    VISIT = "visit", "Visit"
    LETTER_SENT = "letter_sent", "Letter sent"
    CLOSURE_ADVISED = "closure_advised", "Closure advised"
    STATUS_CHANGED = "status_changed", "Status changed"
    OTHER = "other", "Other"


# What staff record by hand (the others are written by the service as it happens).
RECORDABLE_ACTIONS = (ActionKind.CALL_SETTING, ActionKind.RISK_ASSESSMENT, ActionKind.ADVICE_GIVEN,
                      ActionKind.TESTING_ARRANGED, ActionKind.VISIT, ActionKind.CLOSURE_ADVISED, ActionKind.OTHER)


class OutbreakAction(db.Model):
    """A step in the outbreak's management: done (done_at) or still to do (due_date). The first, when an
    outbreak opens, is the call to the setting's contact: the supervisors' work, band 1 for care homes."""

    __tablename__ = "outbreak_actions"
    __table_args__ = (Index("ix_outbreak_actions_todo", "band", "due_date", "id",
                            postgresql_where=text("done_at IS NULL"), sqlite_where=text("done_at IS NULL")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outbreak_id: Mapped[int] = mapped_column(ForeignKey("outbreaks.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    notes: Mapped[str | None] = mapped_column(Text)
    due_date: Mapped[date | None] = mapped_column(Date)
    band: Mapped[int] = mapped_column(default=3)  # 1 first: care homes' calls
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the service itself
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    outbreak: Mapped[Outbreak] = relationship(back_populates="actions")
    created_by: Mapped["User | None"] = relationship("User", foreign_keys=[created_by_id])
    done_by: Mapped["User | None"] = relationship("User", foreign_keys=[done_by_id])

    @property
    def kind_label(self) -> str:
        return ActionKind.label_of(self.kind)

    @property
    def is_done(self) -> bool:
        return self.done_at is not None
