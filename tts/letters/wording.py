"""The words of each letter: the built-in wording, the placeholders each kind may use, and checking an admin's
edit (every unknown placeholder named, so a letter never goes out with "{isolaton_end}" in it)."""
import string
from dataclasses import dataclass

from markupsafe import Markup, escape

from tts.errors import ErrorCollector
from tts.letters.models import LetterKind

COMMON = {
    "today": "today's date",
    "organisation": "the team's organisation (TTS_ORGANISATION_NAME)",
    "team_phone": "the team's phone number (TTS_TEAM_PHONE)",
    "letter_reference": "the letter's reference",
}
PLACEHOLDERS: dict[str, dict[str, str]] = {
    LetterKind.ISOLATION_NOTE: COMMON | {
        "full_name": "the person's name", "first_name": "their first name", "date_of_birth": "their date of birth",
        "isolation_start_date": "the day isolation started (symptoms began, or the test)",
        "isolation_end_date": "the last day of isolation", "test_date": "the test date",
        "case_reference": "the case's reference"},
    LetterKind.QUARANTINE_LETTER: COMMON | {
        "full_name": "the contact's name", "first_name": "their first name",
        "last_exposure_date": "the day they were last in contact", "quarantine_end_date": "the last day of quarantine"},
    LetterKind.OUTBREAK_ADVICE: COMMON | {
        "setting_name": "the setting's name", "contact_name": "the setting's contact",
        "outbreak_reference": "the outbreak's reference", "case_count": "how many cases it has",
        "opened_date": "when the outbreak opened", "cluster_days": "TTS_CLUSTER_DAYS",
        "quiet_days": "TTS_OUTBREAK_QUIET_DAYS"},
}


@dataclass(frozen=True)
class Wording:
    heading: str
    body: str
    version: int = 0  # 0: built in


BUILT_IN: dict[str, Wording] = {
    LetterKind.ISOLATION_NOTE: Wording(
        "Isolation note",
        "To whom it may concern\n\n"
        "{full_name} (born {date_of_birth}) tested positive for COVID-19 on {test_date} and has been told by "
        "{organisation} to stay at home and isolate from {isolation_start_date} until the end of "
        "{isolation_end_date}.\n\n"
        "They must not go to work in person during this time. If they can work from home, they may. They can "
        "return to work on the day after {isolation_end_date} if they feel well.\n\n"
        "This note is evidence for their employer of why they are absent. It does not show whether they were "
        "ill. To check it, phone {team_phone} and quote reference {letter_reference}."),
    LetterKind.QUARANTINE_LETTER: Wording(
        "Advice to stay at home: you are a close contact",
        "Dear {full_name}\n\n"
        "You were in close contact on {last_exposure_date} with someone who has tested positive for COVID-19. "
        "You may have caught it, even if you feel well.\n\n"
        "Please stay at home until the end of {quarantine_end_date}:\n"
        "- do not go to work, school or public places\n"
        "- do not have visitors, except for essential care\n"
        "- if you get symptoms, book a test and tell us\n\n"
        "If you need help to stay at home, such as food or medicine, or you are worried about money, phone us on "
        "{team_phone}. We can help.\n\n"
        "Yours sincerely\n\n"
        "The test, trace and support team, {organisation}"),
    LetterKind.OUTBREAK_ADVICE: Wording(
        "Outbreak advice: {setting_name}",
        "Dear {contact_name}\n\n"
        "We are writing because {case_count} people who attended {setting_name} have tested positive for "
        "COVID-19 within {cluster_days} days of each other. We are treating this as an outbreak (reference "
        "{outbreak_reference}, from {opened_date}).\n\n"
        "What we ask you to do now:\n"
        "- tell us straight away about anyone else who is unwell, staff or residents, pupils or visitors\n"
        "- keep people with symptoms away and ask them to book a test\n"
        "- keep rooms well ventilated and clean shared surfaces often\n"
        "- limit visits and mixing between groups where you can\n\n"
        "We will stay in touch until there have been no new cases for {quiet_days} days. Please phone us on "
        "{team_phone} with any question, quoting {outbreak_reference}.\n\n"
        "Yours sincerely\n\n"
        "The health protection team, {organisation}"),
}


def check_wording(kind: str, heading: str | None, body: str | None) -> tuple[str, str]:
    """The cleaned heading and body, or ValidationFailed naming each problem (unknown placeholders listed)."""
    errors = ErrorCollector()
    allowed = PLACEHOLDERS[kind]
    cleaned = {}
    for field, value, limit in (("heading", heading, 200), ("body", body, 20_000)):
        value = (value or "").replace("\r\n", "\n").strip()
        cleaned[field] = value
        if not value:
            errors.add(field, f"Enter the letter's {field}")
            continue
        if len(value) > limit:
            errors.add(field, f"Keep the {field} to {limit:,} characters")
        try:
            names = [name for _, name, spec, conv in string.Formatter().parse(value) if name is not None]
            specs = [spec or conv for _, name, spec, conv in string.Formatter().parse(value) if name is not None]
        except ValueError:
            errors.add(field, "A { or } is not closed: write each placeholder like {full_name}, and {{ for a "
                              "brace")
            continue
        unknown = sorted({n for n in names if n not in allowed})
        if unknown:
            errors.add(field, "Unknown placeholder" + ("s" if len(unknown) > 1 else "") + ": "
                       + ", ".join("{" + n + "}" for n in unknown) + ". This letter can use: "
                       + ", ".join("{" + n + "}" for n in allowed))
        elif any(specs):
            errors.add(field, "Write placeholders plainly, like {full_name}, with nothing after the name")
    errors.raise_if_any()
    return cleaned["heading"], cleaned["body"]


def fill(text: str, values: dict[str, str]) -> str:
    return text.format_map({k: values.get(k, "") for k in values})


def paragraphs(text: str) -> Markup:
    """The body as HTML: blank lines separate paragraphs; lines starting "- " are a bulleted list."""
    out = []
    for block in text.split("\n\n"):
        lines = [line for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        items = [line[2:] for line in lines if line.startswith("- ")]
        lead = [line for line in lines if not line.startswith("- ")]
        if lead:
            out.append("<p>" + "<br>".join(str(escape(line)) for line in lead) + "</p>")
        if items:
            out.append("<ul>" + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ul>")
    return Markup("\n".join(out))  # nosec B704: every piece of text is escape()d
