"""Making letters from a record, storing them, and emailing them (by the worker, each at most once)."""
import hashlib
import logging
import smtplib
from datetime import date, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from flask import current_app
from sqlalchemy import select, update

from tts.audit.services import record_event
from tts.cases.models import Case, Contact
from tts.clock import today, utcnow
from tts.errors import DomainError, ErrorCollector
from tts.extensions import db
from tts.jobs import job
from tts.letters.models import EmailStatus, Letter, LetterKind, LetterTemplate
from tts.letters.pdf import html_to_pdf
from tts.letters.wording import BUILT_IN, Wording, check_wording, fill, paragraphs
from tts.outbreaks.models import Outbreak

log = logging.getLogger(__name__)
BULK_LIMIT = 200
KIND_OF = {Case: LetterKind.ISOLATION_NOTE, Contact: LetterKind.QUARANTINE_LETTER, Outbreak: LetterKind.OUTBREAK_ADVICE}


def _d(value: date | None) -> str:
    return f"{value:%-d %B %Y}" if value else "not known"


# -- wording -------------------------------------------------------------------------------------------------

def wording(kind: str) -> Wording:
    saved = db.session.scalar(select(LetterTemplate).where(LetterTemplate.kind == kind))
    return Wording(saved.heading, saved.body, saved.version) if saved else BUILT_IN[kind]


def save_wording(actor, kind: str, heading: str | None, body: str | None) -> LetterTemplate:
    if kind not in LetterKind.labels():
        raise DomainError("No such letter")
    heading, body = check_wording(kind, heading, body)
    saved = db.session.scalar(select(LetterTemplate).where(LetterTemplate.kind == kind))
    if saved is None:
        saved = LetterTemplate(kind=kind, heading=heading, body=body, version=1)
        db.session.add(saved)
    else:
        saved.heading, saved.body, saved.version = heading, body, saved.version + 1
    saved.updated_by_id, saved.updated_at = getattr(actor, "id", None), utcnow()
    db.session.flush()
    record_event(actor, "letter_template.update", saved, {"kind": kind, "version": saved.version})
    return saved


# -- composing -----------------------------------------------------------------------------------------------

def _render(**context) -> str:
    """The letter's HTML, without a request (the worker and commands make letters too)."""
    return current_app.jinja_env.get_template("letters/letter.html").render(**context)


def _values(record) -> tuple[dict[str, str], str, str | None]:
    """The placeholders' values, the address block, and the email a letter goes to by default."""
    config = current_app.config
    values = {"today": _d(today()), "organisation": config["TTS_ORGANISATION_NAME"],
              "team_phone": config["TTS_TEAM_PHONE"]}
    if isinstance(record, Case):
        person = record.person
        values |= {"full_name": person.full_name, "first_name": person.first_name,
                   "date_of_birth": _d(person.date_of_birth),
                   "isolation_start_date": _d(record.symptom_onset_date or record.test_date),
                   "isolation_end_date": _d(record.isolation_end_date), "test_date": _d(record.test_date),
                   "case_reference": record.reference}
        return values, "", person.email  # given by hand to an employer: no address
    if isinstance(record, Contact):
        person = record.person
        values |= {"full_name": person.full_name, "first_name": person.first_name,
                   "last_exposure_date": _d(record.last_exposure_date),
                   "quarantine_end_date": _d(record.quarantine_end_date)}
        address = "\n".join(part for part in (person.full_name, person.address, person.postcode) if part)
        return values, address, person.email
    setting = record.setting
    from tts.outbreaks.services import case_ids

    values |= {"setting_name": setting.name, "contact_name": setting.contact_name or "Manager",
               "outbreak_reference": record.reference, "case_count": str(len(case_ids(record))),
               "opened_date": _d(record.opened_at.date()), "cluster_days": str(config["TTS_CLUSTER_DAYS"]),
               "quiet_days": str(config["TTS_OUTBREAK_QUIET_DAYS"])}
    address = "\n".join(part for part in (setting.contact_name, setting.name, setting.address, setting.postcode)
                        if part)
    return values, address, setting.contact_email


def compose(record, reference: str) -> tuple[str, str, int]:
    """The letter's HTML for `record`, its content hash (what it says, whatever its reference), and the
    wording's version."""
    kind = KIND_OF[type(record)]
    words = wording(kind)
    values, address, _ = _values(record)

    def html(ref: str) -> str:
        filled = values | {"letter_reference": ref}
        return _render(heading=fill(words.heading, filled),
                               body=paragraphs(fill(words.body, filled)), address_block=address, reference=ref,
                               today=values["today"], organisation=values["organisation"],
                               team_phone=values["team_phone"])

    digest = hashlib.sha256(html("-").encode()).hexdigest()
    return html(reference), digest, words.version


def default_email(record) -> str | None:
    return _values(record)[2]


def _subject_filter(record) -> dict:
    return {Case: {"case_id": record.id}, Contact: {"contact_id": record.id},
            Outbreak: {"outbreak_id": record.id}}[type(record)]


def letters_of(record) -> list[Letter]:
    return list(db.session.scalars(select(Letter).filter_by(**_subject_filter(record))
                                   .order_by(Letter.created_at.desc(), Letter.id.desc())))


def make_letter(actor, record, *, reuse: bool = True) -> tuple[Letter, bool]:
    """The record's letter as it stands: the stored one if nothing it says has changed since (`reuse`), else a
    new one, rendered and stored. Returns (letter, made)."""
    kind = KIND_OF[type(record)]
    subject = _subject_filter(record)
    _, digest, version = compose(record, "-")
    if reuse:
        latest = db.session.scalar(select(Letter).filter_by(kind=kind, **subject)
                                   .order_by(Letter.id.desc()).limit(1))
        if latest is not None and latest.content_hash == digest and latest.pdf_bytes:
            return latest, False
    letter = Letter(kind=kind, content_hash=digest, template_version=version, created_by_id=getattr(actor, "id", None),
                    **subject)
    db.session.add(letter)
    db.session.flush()
    html, _, _ = compose(record, f"L{letter.id:06d}")
    letter.pdf = html_to_pdf(html)
    letter.pdf_bytes = len(letter.pdf)
    db.session.flush()
    record_event(actor, "letter.create", letter, {"kind": kind, **subject, **_person(record)})
    return letter, True


def _person(record) -> dict:
    return {"person_id": record.person_id} if isinstance(record, (Case, Contact)) else {}


def subject_of(letter: Letter):
    return letter.case or letter.contact or letter.outbreak


def pdf_of(actor, letter: Letter) -> bytes:
    """The stored PDF, audited as read."""
    if letter.pdf is None:
        raise DomainError("This letter was removed under the retention policy")
    record_event(actor, "letter.download", letter, {"kind": letter.kind, **_person(subject_of(letter))})
    return letter.pdf


def mark_printed(actor, letter: Letter) -> None:
    letter.printed_at = utcnow()
    record_event(actor, "letter.print", letter, {"kind": letter.kind, **_person(subject_of(letter))})


def bulk_quarantine_letters(actor, outbreak: Outbreak, contacts: list[Contact]) -> list[Letter]:
    """Quarantine letters for a list of an outbreak's contacts (each the stored one if unchanged)."""
    errors = ErrorCollector()
    if not contacts:
        errors.add("contact_ids", "Choose the contacts to make letters for")
    elif len(contacts) > BULK_LIMIT:
        errors.add("contact_ids", f"Choose at most {BULK_LIMIT} contacts at a time")
    errors.raise_if_any()
    letters = [make_letter(actor, contact)[0] for contact in contacts]
    record_event(actor, "letter.bulk", outbreak, {"kind": LetterKind.QUARANTINE_LETTER,
                                                  "letter_ids": [x.id for x in letters]})
    return letters


# -- email ---------------------------------------------------------------------------------------------------

def email_available() -> bool:
    config = current_app.config
    return bool(config["TTS_SMTP_HOST"] or config["TTS_SMTP_SIMULATED_DIR"])


def request_email(actor, letter: Letter, to: str | None) -> Letter:
    """Queue the letter for the worker to email to `to` (checked), once."""
    from email_validator import EmailNotValidError, validate_email

    errors = ErrorCollector()
    address = None
    if not email_available():
        errors.add("email_to", "Email is not set up for this service (TTS_SMTP_HOST): print the letter instead")
    elif not (to or "").strip():
        errors.add("email_to", "Enter the email address to send it to")
    else:
        try:
            address = validate_email(to.strip(), check_deliverability=False).normalized
        except EmailNotValidError:
            errors.add("email_to", "Enter an email address like name@example.org")
    if letter.email_status in (EmailStatus.PENDING, EmailStatus.SENDING):
        errors.add("email_to", "This letter is already waiting to be emailed")
    if letter.pdf_bytes == 0 or letter.pdf is None:
        errors.add("email_to", "This letter was removed under the retention policy")
    errors.raise_if_any()
    letter.email_to, letter.email_status, letter.email_error = address, EmailStatus.PENDING, None
    letter.email_requested_at, letter.email_requested_by_id, letter.emailed_at = utcnow(), getattr(actor, "id", None), None
    db.session.flush()
    record_event(actor, "letter.email", letter, {"kind": letter.kind, **_person(subject_of(letter))})
    return letter


def _message(letter: Letter) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["TTS_SMTP_FROM"]
    message["To"] = letter.email_to
    message["Subject"] = f"{letter.kind_label} from {config['TTS_ORGANISATION_NAME']}"
    message["Message-ID"] = make_msgid(idstring=f"tts-letter-{letter.id}")
    message.set_content(
        f"Please find attached a {letter.kind_label.lower()} (reference L{letter.id:06d}) from "
        f"{config['TTS_ORGANISATION_NAME']}.\n\nIf you have a question about it, phone us on "
        f"{config['TTS_TEAM_PHONE']}.\n")
    message.add_attachment(letter.pdf, maintype="application", subtype="pdf", filename=letter.filename)
    return message


def deliver(message: EmailMessage) -> None:
    """Hand one email to the SMTP server (or, without one, write it to the simulated mail folder)."""
    config = current_app.config
    if not config["TTS_SMTP_HOST"]:
        folder = Path(config["TTS_SMTP_SIMULATED_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        name = message["Message-ID"].strip("<>").replace("@", "_").replace("/", "_")
        (folder / f"{name}.eml").write_bytes(bytes(message))
        return
    security = config["TTS_SMTP_SECURITY"]
    connect = smtplib.SMTP_SSL if security == "ssl" else smtplib.SMTP
    with connect(config["TTS_SMTP_HOST"], config["TTS_SMTP_PORT"], timeout=config["TTS_SMTP_TIMEOUT_SECONDS"]) as smtp:
        if security == "starttls":
            smtp.starttls()
        if config["TTS_SMTP_USERNAME"]:
            smtp.login(config["TTS_SMTP_USERNAME"], config["TTS_SMTP_PASSWORD"])
        smtp.send_message(message)


@job("letters_emailed")
def send_letters(limit: int = 20):
    """The worker's email pass (a generator: committed at each yield). Letters waiting are claimed (SKIP
    LOCKED: two workers never take the same one) and marked sending, which is committed before the SMTP server
    is called; then each is marked sent or failed. A letter whose worker stopped mid-send stays `sending` until
    TTS_SMTP_ORPHAN_MINUTES, then is marked failed for staff to check: never sent a second time by itself."""
    now = utcnow()
    orphaned = db.session.execute(
        update(Letter).where(Letter.email_status == EmailStatus.SENDING,
                             Letter.email_requested_at < now - timedelta(minutes=current_app.config["TTS_SMTP_ORPHAN_MINUTES"]))
        .values(email_status=EmailStatus.FAILED,
                email_error="The worker stopped while sending it: it may have gone. Check with the recipient "
                            "before sending it again.")
        .execution_options(synchronize_session=False)).rowcount or 0
    claimed = list(db.session.scalars(
        select(Letter).where(Letter.email_status == EmailStatus.PENDING)
        .order_by(Letter.email_requested_at, Letter.id).limit(limit).with_for_update(skip_locked=True)))
    for letter in claimed:
        letter.email_status, letter.email_requested_at = EmailStatus.SENDING, now
    yield "claimed: no other worker sends these, and no lock is held while the SMTP server is called"
    sent = 0
    for letter in claimed:
        try:
            deliver(_message(letter))
        except (OSError, smtplib.SMTPException) as exc:
            letter.email_status = EmailStatus.FAILED
            letter.email_error = f"The mail server refused it or could not be reached ({type(exc).__name__})"
            log.warning("letter %s not emailed: %s", letter.id, type(exc).__name__)
        else:
            letter.email_status, letter.emailed_at = EmailStatus.SENT, utcnow()
            sent += 1
            record_event(None, "letter.emailed", letter, {"kind": letter.kind})
        yield "sent"
    return sent + orphaned


SAMPLE = {"full_name": "Ione Sallow", "first_name": "Ione", "date_of_birth": "12 April 1988",
          "isolation_start_date": "1 December 2026", "isolation_end_date": "11 December 2026",
          "test_date": "2 December 2026", "case_reference": "TTS-ABC123", "last_exposure_date": "30 November 2026",
          "quarantine_end_date": "14 December 2026", "setting_name": "Ferncliffe Care Home",
          "contact_name": "Morwenna Quillon", "outbreak_reference": "OB-BCD234", "case_count": "3",
          "opened_date": "3 December 2026", "cluster_days": "14", "quiet_days": "28", "letter_reference": "L000000"}


def preview(kind: str, heading: str | None, body: str | None) -> str:
    """An admin's wording as a letter, filled with a fictional person's details (checked first)."""
    heading, body = check_wording(kind, heading, body)
    config = current_app.config
    values = SAMPLE | {"today": _d(today()), "organisation": config["TTS_ORGANISATION_NAME"],
                       "team_phone": config["TTS_TEAM_PHONE"]}
    return _render(heading=fill(heading, values), body=paragraphs(fill(body, values)),
                           address_block="Ione Sallow\n22 Pretend Place, Sheffield\nS11 8YA", reference="PREVIEW",
                           today=values["today"], organisation=values["organisation"], team_phone=values["team_phone"])


def person_letters(person_id: int) -> list[Letter]:
    """For the person page: letters about any of their cases and contact records."""
    from sqlalchemy import or_

    return list(db.session.scalars(select(Letter).where(or_(
        Letter.case_id.in_(select(Case.id).where(Case.person_id == person_id)),
        Letter.contact_id.in_(select(Contact.id).where(Contact.person_id == person_id))))
        .order_by(Letter.created_at.desc(), Letter.id.desc())))
