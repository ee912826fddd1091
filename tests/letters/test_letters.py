"""Letters: their words come from the record and the admin's wording (read back out of the PDF), each is
stored and audited, an unchanged one is not made twice, and an email goes exactly once."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import person_data
from tests.letters.conftest import pdf_text
from tests.outbreaks.conftest import new_case, new_setting
from tts.audit.models import AuditEvent
from tts.cases.corrections import correct_case
from tts.cases.services import add_contact
from tts.clock import today
from tts.errors import ValidationFailed
from tts.extensions import db
from tts.letters import services
from tts.letters.models import Letter
from tts.outbreaks.services import link, live_outbreak


@pytest.fixture
def lctx(app):
    with app.app_context():
        yield


def test_an_isolation_note_says_the_persons_dates_and_is_stored_and_audited(lctx):
    case = new_case(1, days_ago=2, onset_days_ago=3)
    letter, made = services.make_letter(None, case)
    assert made and letter.pdf_bytes > 1000 and letter.pdf.startswith(b"%PDF")
    text = pdf_text(letter.pdf)
    assert case.person.full_name in text
    assert f"{case.isolation_end_date:%-d %B %Y}" in text and f"{case.test_date:%-d %B %Y}" in text
    assert f"L{letter.id:06d}" in text and "To whom it may concern" in text
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "letter.create"))
    assert event.record_id == letter.id and event.details["person_id"] == case.person_id


def test_the_font_is_the_projects_own_embedded_in_the_pdf(lctx):
    from pypdf import PdfReader
    import io

    letter, _ = services.make_letter(None, new_case(2))
    fonts = set()
    for page in PdfReader(io.BytesIO(letter.pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]).split("+")[-1])
    assert fonts and all(f.startswith("Atkinson-Hyperlegible") for f in fonts), fonts


def test_unchanged_letters_are_not_made_twice_and_a_correction_makes_a_new_one(lctx):
    case = new_case(3, days_ago=2)
    first, _ = services.make_letter(None, case)
    again, made = services.make_letter(None, case)
    assert again.id == first.id and not made
    correct_case(None, case, test_date=today() - timedelta(days=4), symptom_onset_date=None, person=None,
                 reason="Lab gave the wrong date")
    fresh, made = services.make_letter(None, case)
    assert made and fresh.id != first.id
    assert f"{case.isolation_end_date:%-d %B %Y}" in pdf_text(fresh.pdf)
    assert f"{case.isolation_end_date:%-d %B %Y}" not in pdf_text(first.pdf)  # the old one as it was sent


def test_a_quarantine_letter_and_an_outbreak_advice_letter(lctx):
    case = new_case(4)
    contact = add_contact(None, case, person_data(30, last_name="Quarantina", phone="07700 900630"),
                          relationship="close", last_exposure_date=today() - timedelta(days=1))
    text = pdf_text(services.make_letter(None, contact)[0].pdf)
    assert "Quarantina" in text and f"{contact.quarantine_end_date:%-d %B %Y}" in text
    assert contact.person.address.split(",")[0] in text
    home = new_setting(5, name="Larkspur Care Home")
    link(None, home, case=case)
    link(None, home, case=new_case(6))
    outbreak = live_outbreak(home.id)
    text = pdf_text(services.make_letter(None, outbreak)[0].pdf)
    assert "Dear Morwenna Quillon" in text and "2 people who attended Larkspur Care Home" in text
    assert outbreak.reference in text


def test_an_admins_wording_is_used_and_unknown_placeholders_are_refused(lctx):
    with pytest.raises(ValidationFailed) as bad:
        services.save_wording(None, "isolation_note", "Note", "Dear {ful_name}, until {isolation_end_date} {")
    assert "body" in bad.value.errors
    with pytest.raises(ValidationFailed) as unknown:
        services.save_wording(None, "isolation_note", "", "Dear {ful_name} and {nhs_number}")
    message = unknown.value.errors["body"][0]
    assert "{ful_name}" in message and "{nhs_number}" in message and "{full_name}" in message
    assert "heading" in unknown.value.errors
    saved = services.save_wording(None, "isolation_note", "Fit note for {first_name}",
                                  "{full_name} must stay home until {isolation_end_date}.\n\n- item one\n- item two")
    assert saved.version == 1
    case = new_case(7)
    letter, _ = services.make_letter(None, case)
    text = pdf_text(letter.pdf)
    assert f"Fit note for {case.person.first_name}" in text and "item two" in text
    assert letter.template_version == 1


def test_a_letter_is_emailed_once_with_its_pdf(lctx, mailbox):
    case = new_case(8)
    letter, _ = services.make_letter(None, case)
    with pytest.raises(ValidationFailed):
        services.request_email(None, letter, "not an address")
    services.request_email(None, letter, "Employer@Example.org")
    with pytest.raises(ValidationFailed):
        services.request_email(None, letter, "again@example.org")  # already waiting
    assert services.send_letters() == 1
    assert services.send_letters() == 0  # nothing is sent twice
    assert len(mailbox.messages) == 1
    message = mailbox.messages[0]
    assert message["To"] == "Employer@example.org" and "Isolation note" in message["Subject"]
    attachment = [part for part in message.walk() if part.get_content_type() == "application/pdf"][0]
    assert case.person.full_name in pdf_text(attachment.get_payload(decode=True))
    db.session.refresh(letter)
    assert letter.email_status == "sent" and letter.emailed_at is not None


def test_an_unreachable_mail_server_fails_the_letter_and_it_is_not_retried_by_itself(lctx, app, monkeypatch):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the probe closes
    for key, value in {"TTS_SMTP_HOST": "127.0.0.1", "TTS_SMTP_PORT": port, "TTS_SMTP_SECURITY": "none",
                       "TTS_SMTP_TIMEOUT_SECONDS": 2}.items():
        monkeypatch.setitem(app.config, key, value)
    letter, _ = services.make_letter(None, new_case(9))
    services.request_email(None, letter, "someone@example.org")
    assert services.send_letters() == 0
    db.session.refresh(letter)
    assert letter.email_status == "failed" and "could not be reached" in letter.email_error
    services.request_email(None, letter, "someone@example.org")  # staff send it again by hand
    assert letter.email_status == "pending"


def test_email_is_refused_when_it_is_not_set_up(lctx, app, monkeypatch):
    monkeypatch.setitem(app.config, "TTS_SMTP_HOST", "")
    monkeypatch.setitem(app.config, "TTS_SMTP_SIMULATED_DIR", "")
    letter, _ = services.make_letter(None, new_case(10))
    with pytest.raises(ValidationFailed) as refused:
        services.request_email(None, letter, "someone@example.org")
    assert "not set up" in refused.value.errors["email_to"][0]


def test_bulk_quarantine_letters_for_an_outbreaks_contacts(lctx):
    home = new_setting(11)
    index = new_case(11)
    link(None, home, case=index)
    link(None, home, case=new_case(12))
    contacts = [add_contact(None, index, person_data(40 + n, last_name=f"Bulk{n}", phone=f"07700 90064{n}"),
                            relationship="close", last_exposure_date=today()) for n in range(3)]
    letters = services.bulk_quarantine_letters(None, live_outbreak(home.id), contacts)
    assert sorted(x.contact_id for x in letters) == sorted(c.id for c in contacts)
    assert db.session.scalar(select(func.count()).select_from(Letter).where(Letter.kind == "quarantine_letter")) == 3
    with pytest.raises(ValidationFailed):
        services.bulk_quarantine_letters(None, live_outbreak(home.id), [])
