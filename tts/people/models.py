"""People (cases and contacts alike) and the households they live in."""
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tts.clock import utcnow
from tts.extensions import db
from tts.models_base import UTCDateTime

if TYPE_CHECKING:
    from tts.auth.models import User
    from tts.cases.models import Case, Contact


class Household(db.Model):
    __tablename__ = "households"
    __table_args__ = (Index("ix_households_postcode", "postcode"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(300))
    postcode: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    members: Mapped[list["Person"]] = relationship(back_populates="household", order_by="Person.id")


class Person(db.Model):
    __tablename__ = "people"
    __table_args__ = (
        Index("ix_people_dob_phone", "date_of_birth", "phone"),
        Index("ix_people_dob_postcode", "date_of_birth", "postcode"),
        Index("ix_people_phone", "phone"),
        # Partial surname search on the Cases list (tts/cases/finding.py): trigrams on PostgreSQL, where
        # ILIKE '%smi%' uses them; a plain index elsewhere.
        Index("ix_people_last_name_trgm", "last_name", postgresql_using="gin",
              postgresql_ops={"last_name": "gin_trgm_ops"}),
        Index("ix_people_first_name_trgm", "first_name", postgresql_using="gin",
              postgresql_ops={"first_name": "gin_trgm_ops"}),
        Index("ix_people_name", "last_name", "first_name", "id"),  # the list sorted by surname
        # A postcode district ("S11": LIKE 'S11 %'): a prefix search needs the pattern operators on PostgreSQL.
        Index("ix_people_postcode_prefix", "postcode", postgresql_ops={"postcode": "text_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(300))
    postcode: Mapped[str | None] = mapped_column(String(8))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), index=True)
    language: Mapped[str | None] = mapped_column(String(40))
    accessibility_needs: Mapped[str | None] = mapped_column(String(500))
    is_vulnerable: Mapped[bool] = mapped_column(default=False)
    has_sms_opt_out: Mapped[bool] = mapped_column(default=False)
    # Set by the retention job (tts/people/retention.py): identifying fields are gone, the age band stays.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    age_band: Mapped[str | None] = mapped_column(String(8))
    # Set when a supervisor merged this record into another (tts/people/merging.py): everything of theirs
    # moved there, and this id answers "merged into N".
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    merged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    household: Mapped[Household | None] = relationship(back_populates="members")
    merged_into: Mapped["Person | None"] = relationship("Person", remote_side=[id])
    cases: Mapped[list["Case"]] = relationship("Case", back_populates="person", order_by="Case.id")
    contact_records: Mapped[list["Contact"]] = relationship("Contact", back_populates="person", order_by="Contact.id")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class NotDuplicate(db.Model):
    """Two people a supervisor said are not the same person: never listed as possible duplicates again."""

    __tablename__ = "not_duplicates"
    __table_args__ = (UniqueConstraint("person_id", "other_id", name="uq_not_duplicates_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))  # the lower id of the two
    other_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Note(db.Model):
    """A free-text note on a person, or on one of their cases: on the timeline, audited, scrubbed by the
    retention job with the rest of their free text, and never in an export."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped["User | None"] = relationship("User")
