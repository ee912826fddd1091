"""Column types and mixins shared by every feature's models."""
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset; this restores it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Labelled(StrEnum):
    """A stored value (a status, a kind) declared with the words a page shows for it, and the colour of its
    GOV.UK tag: members are `NAME = "value", "Label"[, "tag colour"]`, and templates show `.label` and
    `.tag` (or the model's `status_label` and `status_tag`), never their own wording or colour for a value.
    `label_of` and `tag_of` read a stored string's."""

    def __new__(cls, value: str, label: str = "", tag: str = ""):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label or value.replace("_", " ").capitalize()
        member.tag = tag  # "" is the default (blue) tag
        return member

    @classmethod
    def label_of(cls, value: str | None) -> str:
        if value is None:
            return ""
        try:
            return cls(value).label
        except ValueError:
            return value.replace("_", " ").capitalize()

    @classmethod
    def tag_of(cls, value: str | None) -> str:
        try:
            return cls(value).tag
        except ValueError:
            return "grey"

    @classmethod
    def labels(cls) -> dict[str, str]:
        return {member.value: member.label for member in cls}


class WithStatus:
    """A model whose `status` column holds the values of a `Labelled` enum (`STATUS`): its label and tag."""

    STATUS: type[Labelled]
    status: str

    @property
    def status_label(self) -> str:
        return self.STATUS.label_of(self.status)

    @property
    def status_tag(self) -> str:
        return self.STATUS.tag_of(self.status)
