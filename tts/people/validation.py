"""Normalising what people type: phone numbers, postcodes, names, emails, dates."""
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from tts.clock import today
from tts.errors import ErrorCollector

# Ofcom reserves 07700 900000-900999 for drama; phonenumbers rightly calls them invalid, but
# accepting them lets demo and test data stay fictional, so no real person is ever texted.
_FICTION_MOBILES = range(7700900000, 7700901000)
_POSTCODE = re.compile(r"^(GIR0AA|[A-PR-UWYZ][A-HK-Y]?[0-9][A-Z0-9]?[0-9][ABD-HJLNP-UW-Z]{2})$")
PHONE_HINT = "Enter a phone number, like 07700 900123, +44 7700 900123 or 0114 496 0123"


# The two ways most UK numbers are written, spaces aside: 0 and ten digits, or +44 and ten digits (the
# first not 0). For these the national number is just the ten digits, so phonenumbers' general parse
# (about 16 µs, a sixth of an import's time) is skipped; validity is still phonenumbers' own check.
# tests/people/test_validation.py compares the two ways over every leading digit group.
_UK_TEN_DIGITS = re.compile(r"(?:0|\+44)([1-9][0-9]{9})")


def normalise_phone(raw: str) -> str:
    """E.164 form of a phone number typed in any common UK form; ValueError if it is not one."""
    common = _UK_TEN_DIGITS.fullmatch(raw.replace(" ", ""))
    if common is not None:
        national = int(common.group(1))
        if national in _FICTION_MOBILES or phonenumbers.is_valid_number(
                phonenumbers.PhoneNumber(country_code=44, national_number=national)):
            return "+44" + common.group(1)
        raise ValueError(PHONE_HINT)
    return _parse_phone(raw)


def _parse_phone(raw: str) -> str:
    """normalise_phone by phonenumbers' general parse, for any form."""
    try:
        number = phonenumbers.parse(raw, "GB")
    except phonenumbers.NumberParseException:
        raise ValueError(PHONE_HINT) from None
    if number.country_code == 44 and number.national_number in _FICTION_MOBILES:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not phonenumbers.is_valid_number(number):
        raise ValueError(PHONE_HINT)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str | None) -> str:
    """How staff read a stored number: 07700 900123 for UK numbers, international otherwise."""
    if not e164:
        return ""
    number = phonenumbers.parse(e164, "GB")
    if number.country_code == 44 and number.national_number in _FICTION_MOBILES:
        digits = str(number.national_number)
        return f"0{digits[:4]} {digits[4:]}"
    fmt = phonenumbers.PhoneNumberFormat.NATIONAL if number.country_code == 44 else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, fmt)


def normalise_postcode(raw: str) -> str:
    """`s1 2hh` -> `S1 2HH`; ValueError if it is not shaped like a UK postcode."""
    compact = re.sub(r"\s+", "", raw).upper()
    if not _POSTCODE.match(compact):
        raise ValueError("Enter a real postcode, like S1 2HH")
    return f"{compact[:-3]} {compact[-3:]}"


def postcode_district(postcode: str | None) -> str | None:
    return postcode.split(" ")[0] if postcode else None


@dataclass
class PersonData:
    """A person's details as entered, before cleaning. Blank strings mean "not given"."""

    first_name: str | None = None
    last_name: str | None = None
    date_of_birth: date | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    postcode: str | None = None
    language: str | None = None  # an ISO 639-1 code, or a language's name (tts/people/languages.py)
    extra: dict = field(default_factory=dict)


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def clean_person(data: PersonData, errors: ErrorCollector, prefix: str = "person.", *,
                 require: tuple[str, ...] = ("first_name", "last_name")) -> PersonData:
    """A cleaned copy of `data`; problems are added to `errors` under `prefix` + field name."""
    labels = {
        "first_name": "Enter the first name",
        "last_name": "Enter the last name",
        "date_of_birth": "Enter the date of birth",
        "phone": "Enter a phone number",
        "address": "Enter the address",
        "postcode": "Enter the postcode",
    }
    for name in require:
        if _blank(getattr(data, name)):
            errors.add(prefix + name, labels.get(name, f"Enter the {name.replace('_', ' ')}"))
    out = PersonData()
    for name in ("first_name", "last_name", "address"):
        value = getattr(data, name)
        if not _blank(value):
            value = " ".join(str(value).split())
            if len(value) > (300 if name == "address" else 100):
                errors.add(prefix + name, f"{name.replace('_', ' ').capitalize()} is too long")
            setattr(out, name, value)
    if data.date_of_birth is not None:
        if data.date_of_birth > today():
            errors.add(prefix + "date_of_birth", "Date of birth must be today or in the past")
        elif data.date_of_birth.year < max(1900, today().year - 120):
            errors.add(prefix + "date_of_birth", "Date of birth must be within the last 120 years (1900 or later)")
        out.date_of_birth = data.date_of_birth
    if not _blank(data.phone):
        try:
            out.phone = normalise_phone(str(data.phone))
        except ValueError as exc:
            errors.add(prefix + "phone", str(exc))
    if not _blank(data.postcode):
        try:
            out.postcode = normalise_postcode(str(data.postcode))
        except ValueError as exc:
            errors.add(prefix + "postcode", str(exc))
    if not _blank(data.email):
        try:
            out.email = validate_email(str(data.email).strip(), check_deliverability=False).normalized
        except EmailNotValidError:
            errors.add(prefix + "email", "Enter an email address in the correct format, like name@example.org")
    if not _blank(data.language):
        from tts.people.languages import check_language

        out.language = check_language(errors, prefix + "language", str(data.language))
    out.extra = dict(data.extra)
    return out


def check_not_future(errors: ErrorCollector, field_name: str, value: date | None, label: str) -> None:
    if value is not None and value > today():
        errors.add(field_name, f"{label} must be today or in the past")


def plausible_days() -> int:
    from flask import current_app, has_app_context

    return current_app.config["TTS_PLAUSIBLE_DAYS"] if has_app_context() else 90


def check_recent(errors: ErrorCollector, field_name: str, value: date | None, label: str) -> None:
    """A test, onset or exposure date: today or in the past, and within the last TTS_PLAUSIBLE_DAYS days
    (default 90), so a mistyped year (0026, 2062) is caught at entry instead of poisoning the dates computed
    from it."""
    if value is None:
        return
    if value > today():
        errors.add(field_name, f"{label} must be today or in the past")
    elif value < today() - timedelta(days=plausible_days()):
        errors.add(field_name, f"{label} must be within the last {plausible_days()} days: check the year")


def is_mobile(e164: str) -> bool:
    if e164.startswith("+44") and e164[3:].isdigit():
        # Stored numbers are E.164 (normalise_phone): a UK one is +44 and its national number, so it
        # needs no parsing, which is most of this function's time.
        number = phonenumbers.PhoneNumber(country_code=44, national_number=int(e164[3:]))
    else:
        number = phonenumbers.parse(e164, "GB")
    if number.country_code == 44 and 7700900000 <= number.national_number <= 7700900999:
        return True  # Ofcom's drama range: the demo and tests use it as mobiles
    return phonenumbers.number_type(number) in (phonenumbers.PhoneNumberType.MOBILE,
                                                phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
