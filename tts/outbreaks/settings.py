"""The register of settings (linking cases and contacts to them, which runs the cluster rule, is in services.py)."""
import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from tts.audit.services import record_event
from tts.clock import today
from tts.errors import ErrorCollector, ValidationFailed
from tts.extensions import db
from tts.outbreaks.models import Setting, SettingKind, SettingLink
from tts.people.validation import normalise_phone, normalise_postcode

MAX_SIZE = 100_000
SEARCH_LIMIT = 50
LINK_SOURCES = ("staff", "self_service", "import", "api")


def name_key(name: str) -> str:
    """How two names are compared: case, spacing and punctuation ignored ("St. Anne's" = "st annes")."""
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9]", " ", re.sub(r"['\u2019]", "", name.lower()))).strip()


@dataclass
class SettingData:
    name: str | None = None
    kind: str | None = None
    address: str | None = None
    postcode: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    size: int | None = None
    notes: str | None = None


class DuplicateSetting(ValidationFailed):
    """The register already has a setting with this name at this postcode."""

    http_status = 409

    def __init__(self, existing: Setting):
        super().__init__({"name": [f"{existing.name} at {existing.postcode} is already in the register"]})
        self.existing = existing
        self.extra = {"existing_setting_id": existing.id}


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def check_setting(data: SettingData) -> SettingData:
    """Every problem at once, by field; the cleaned data otherwise."""
    from email_validator import EmailNotValidError, validate_email

    errors = ErrorCollector()
    name = (data.name or "").strip()
    if not name:
        errors.add("name", "Enter the setting's name")
    elif len(name) > 200 or not name_key(name):
        errors.add("name", "Enter a name of up to 200 letters and numbers")
    if data.kind not in SettingKind.labels():
        errors.add("kind", "Choose what kind of setting it is: " + ", ".join(SettingKind.labels()))
    postcode = None
    if _blank(data.postcode):
        errors.add("postcode", "Enter the setting's postcode")
    else:
        try:
            postcode = normalise_postcode(data.postcode)
        except ValueError as exc:
            errors.add("postcode", str(exc))
    phone = None
    if not _blank(data.contact_phone):
        try:
            phone = normalise_phone(data.contact_phone.strip())
        except ValueError as exc:
            errors.add("contact_phone", str(exc))
    email = None
    if not _blank(data.contact_email):
        try:
            email = validate_email(data.contact_email.strip(), check_deliverability=False).normalized
        except EmailNotValidError:
            errors.add("contact_email", "Enter an email address like name@example.org")
    if data.size is not None and not (0 < data.size <= MAX_SIZE):
        errors.add("size", f"Enter how many people attend it, from 1 to {MAX_SIZE:,}")
    for field, limit in (("address", 500), ("contact_name", 200), ("notes", 5000)):
        value = getattr(data, field)
        if value is not None and len(value) > limit:
            errors.add(field, f"Keep it to {limit:,} characters")
    errors.raise_if_any()
    clean = lambda v: v.strip() or None if isinstance(v, str) else v  # noqa: E731
    return SettingData(name=name, kind=data.kind, address=clean(data.address), postcode=postcode,
                       contact_name=clean(data.contact_name), contact_phone=phone, contact_email=email,
                       size=data.size, notes=clean(data.notes))


def _existing(key: str, postcode: str, but: int | None = None) -> Setting | None:
    query = select(Setting).where(Setting.name_key == key, Setting.postcode == postcode)
    if but is not None:
        query = query.where(Setting.id != but)
    return db.session.scalar(query)


def _save(setting: Setting) -> None:
    """Flush, turning the unique constraint's refusal (another request added it a moment ago) into the
    duplicate error the caller would have had a moment later."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        existing = _existing(setting.name_key, setting.postcode, but=setting.id)
        if existing is None:
            raise
        raise DuplicateSetting(existing) from None


def create_setting(actor, data: SettingData) -> Setting:
    clean = check_setting(data)
    key = name_key(clean.name)
    existing = _existing(key, clean.postcode)
    if existing is not None:
        raise DuplicateSetting(existing)
    setting = Setting(name_key=key, created_by_id=getattr(actor, "id", None),
                      **{k: v for k, v in clean.__dict__.items()})
    db.session.add(setting)
    _save(setting)
    record_event(actor, "setting.create", setting, {"kind": setting.kind})
    return setting


def update_setting(actor, setting: Setting, data: SettingData) -> Setting:
    clean = check_setting(data)
    key = name_key(clean.name)
    existing = _existing(key, clean.postcode, but=setting.id)
    if existing is not None:
        raise DuplicateSetting(existing)
    changed = sorted(k for k, v in clean.__dict__.items() if getattr(setting, k) != v)
    for k, v in clean.__dict__.items():
        setattr(setting, k, v)
    setting.name_key = key
    _save(setting)
    record_event(actor, "setting.update", setting, {"fields": changed})
    return setting


def search_settings(q: str | None = None, kind: str | None = None, limit: int = SEARCH_LIMIT) -> list[Setting]:
    """By part of the name, or by postcode (whole, or its district: "S11"), newest names first."""
    query = select(Setting)
    text = (q or "").strip()
    if text:
        compact = re.sub(r"\s+", "", text).upper()
        try:
            postcode = normalise_postcode(text)
        except ValueError:
            postcode = None
        conditions = [Setting.name_key.contains(name_key(text), autoescape=True)] if name_key(text) else []
        if postcode:
            conditions.append(Setting.postcode == postcode)
        elif re.fullmatch(r"[A-Z]{1,2}[0-9][A-Z0-9]?", compact):
            conditions.append(Setting.postcode.startswith(compact + " "))
        if not conditions:
            return []
        query = query.where(or_(*conditions))
    if kind:
        query = query.where(Setting.kind == kind)
    return list(db.session.scalars(query.order_by(Setting.name_key, Setting.id).limit(limit)))


def suggest_settings(words: str, limit: int = 30) -> list[Setting]:
    """Settings for a place named in someone's own words ("Tinsley Pallets, Attercliffe"): the search as typed,
    else each of its three longest words alone (people's words rarely match a register entry exactly)."""
    found = search_settings(words) if words else []
    if not found:
        for word in sorted({w for w in words.replace(",", " ").split() if len(w) > 3}, key=len, reverse=True)[:3]:
            found += [s for s in search_settings(word, limit=10) if s not in found]
    return found[:limit]


def check_attended(errors: ErrorCollector, last_attended: date | None, field: str = "last_attended") -> None:
    if last_attended is not None and last_attended > today():
        errors.add(field, "The date they last attended cannot be in the future")


def unlink(actor, found: SettingLink) -> None:
    record_event(actor, "setting.unlink", found, {"setting_id": found.setting_id, "case_id": found.case_id,
                                                  "contact_id": found.contact_id})
    db.session.delete(found)
    db.session.flush()


def links_of(*, case=None, contact=None) -> list[SettingLink]:
    column = SettingLink.case_id if case is not None else SettingLink.contact_id
    record = case if case is not None else contact
    return list(db.session.scalars(select(SettingLink).where(column == record.id).order_by(SettingLink.id)))


def outbreaks_of_case(case) -> list:
    from tts.outbreaks.models import Outbreak, OutbreakCase

    return list(db.session.scalars(select(Outbreak).join(OutbreakCase, OutbreakCase.outbreak_id == Outbreak.id)
                                   .where(OutbreakCase.case_id == case.id).order_by(Outbreak.opened_at)))


def contact_links_of_person(person_id: int) -> list[SettingLink]:
    """For the person page: the settings linked to any of their contact records."""
    from tts.cases.models import Contact

    return list(db.session.scalars(select(SettingLink).join(Contact, Contact.id == SettingLink.contact_id)
                                   .where(Contact.person_id == person_id).order_by(SettingLink.id)))
