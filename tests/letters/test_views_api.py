"""Letters in the browser's pages and the API: made from the record page, listed, opened, emailed, printed;
the API's PDFs (application/pdf, audited, the record rule); an admin edits and previews the wording."""
from datetime import timedelta

from sqlalchemy import select

from tests.api.test_cases_api import case_body
from tests.conftest import sign_in
from tests.letters.conftest import pdf_text
from tests.outbreaks.conftest import new_case, new_setting
from tts.audit.models import AuditEvent
from tts.clock import today
from tts.extensions import db
from tts.letters.models import Letter
from tts.outbreaks.services import link, live_outbreak


def test_a_tracer_makes_an_isolation_note_opens_it_and_emails_it(app, ctx, client, make_user, mailbox):
    user = make_user("tracer")
    sign_in(client, user)
    with ctx():
        case = new_case(1)
        case.created_by_id = user["id"]
        case_id = case.id
    response = client.post(f"/cases/{case_id}/letters")
    assert response.status_code == 302 and response.location.endswith(f"/cases/{case_id}#letters")
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'data-testid="letters"' in page and "Isolation note" in page
    with app.app_context():
        letter = db.session.scalar(select(Letter).where(Letter.case_id == case_id))
        letter_id = letter.id
    pdf = client.get(f"/letters/{letter_id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "Cluster1" in pdf_text(pdf.data)
    form = client.get(f"/letters/{letter_id}/email")
    assert form.status_code == 200
    bad = client.post(f"/letters/{letter_id}/email", data={"email_to": "nope"})
    assert bad.status_code == 400 and "govuk-error-summary" in bad.get_data(as_text=True)
    sent = client.post(f"/letters/{letter_id}/email", data={"email_to": "hr@employer.example"})
    assert sent.status_code == 302
    with app.app_context():
        from tts.letters.services import send_letters

        assert send_letters() == 1
    assert len(mailbox.messages) == 1 and mailbox.messages[0]["To"] == "hr@employer.example"
    assert "Emailed" in client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert client.post(f"/letters/{letter_id}/printed").status_code == 302
    with app.app_context():
        actions = [e.action for e in db.session.scalars(select(AuditEvent).where(AuditEvent.record_type == "letter",
                                                                                 AuditEvent.record_id == letter_id))]
    assert {"letter.create", "letter.download", "letter.email", "letter.emailed", "letter.print"} <= set(actions)


def test_the_api_gives_each_letter_as_a_pdf_audited_and_under_the_record_rule(app, client, api_token, ctx):
    tracer, tracer_user = api_token("tracer")
    other, _ = api_token("tracer")
    boss, _ = api_token("supervisor")
    case = client.post("/api/v1/cases", json=case_body(), headers=tracer).json
    contact = client.post(f"/api/v1/cases/{case['id']}/contacts", headers=tracer, json={
        "person": {"first_name": "Hollis", "last_name": "Thimble", "phone": "07700 900777",
                   "address": "8 Pretend Place, Sheffield", "postcode": "S11 8YA"},
        "relationship": "close", "last_exposure_date": (today() - timedelta(days=1)).isoformat()}).json
    note = client.get(f"/api/v1/cases/{case['id']}/letters/isolation.pdf", headers=tracer)
    assert note.status_code == 200 and note.mimetype == "application/pdf"
    assert "Ione Sallow" in pdf_text(note.data)
    again = client.get(f"/api/v1/cases/{case['id']}/letters/isolation.pdf", headers=tracer)
    assert again.headers["X-Letter-Id"] == note.headers["X-Letter-Id"]  # unchanged: the stored one
    quarantine = client.get(f"/api/v1/contacts/{contact['id']}/letters/quarantine.pdf", headers=tracer)
    assert quarantine.status_code == 200 and "Hollis Thimble" in pdf_text(quarantine.data)
    assert client.get(f"/api/v1/cases/{case['id']}/letters/isolation.pdf", headers=other).status_code == 403
    assert client.get(f"/api/v1/contacts/{contact['id']}/letters/quarantine.pdf", headers=other).status_code == 403
    with ctx():
        home = new_setting(7)
        link(None, home, case=new_case(2))
        link(None, home, case=new_case(3))
        outbreak_id = live_outbreak(home.id).id
    advice = client.get(f"/api/v1/outbreaks/{outbreak_id}/letters/advice.pdf", headers=boss)
    assert advice.status_code == 200 and "Ferncliffe House 7" in pdf_text(advice.data)
    assert client.get(f"/api/v1/outbreaks/{outbreak_id}/letters/advice.pdf", headers=tracer).status_code == 403
    assert client.get("/api/v1/outbreaks/2000000000/letters/advice.pdf", headers=boss).status_code == 404
    with app.app_context():
        reads = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "letter.download",
                                                            AuditEvent.actor_id == tracer_user["id"])).all()
        assert len(reads) == 3


def test_a_supervisor_makes_the_advice_letter_and_bulk_quarantine_letters_on_the_outbreak_page(app, ctx, client,
                                                                                                make_user):
    from tts.cases.services import add_contact
    from tests.factories import person_data

    sign_in(client, make_user("supervisor"))
    with ctx():
        home = new_setting(8)
        index = new_case(4)
        link(None, home, case=index)
        link(None, home, case=new_case(5))
        contacts = [add_contact(None, index, person_data(50 + n, last_name=f"Letterby{n}", phone=f"07700 90065{n}"),
                                relationship="close", last_exposure_date=today()).id for n in range(2)]
        outbreak_id = live_outbreak(home.id).id
    assert client.post(f"/outbreaks/{outbreak_id}/letters").status_code == 302
    none = client.post(f"/outbreaks/{outbreak_id}/letters/quarantine", data={})
    assert none.status_code == 302 and "Choose the contacts" in client.get(none.location).get_data(as_text=True)
    bulk = client.post(f"/outbreaks/{outbreak_id}/letters/quarantine", data={"contact_id": [str(i) for i in contacts]})
    assert bulk.status_code == 302
    page = client.get(f"/outbreaks/{outbreak_id}").get_data(as_text=True)
    assert "Outbreak advice letter" in page and "Letterby0" in page and "Letterby1" in page
    email = client.get(f"/letters/{db_letter(app, outbreak_id)}/email").get_data(as_text=True)
    assert 'value="manager@ferncliffe.example"' in email  # the setting's contact, by default


def db_letter(app, outbreak_id):
    with app.app_context():
        return db.session.scalar(select(Letter.id).where(Letter.outbreak_id == outbreak_id))


def test_an_admin_edits_and_previews_the_wording(app, admin_client):
    page = admin_client.get("/admin/letters")
    assert page.status_code == 200 and "Quarantine advice letter" in page.get_data(as_text=True)
    edit = admin_client.get("/admin/letters/quarantine_letter")
    assert edit.status_code == 200 and "{quarantine_end_date}" in edit.get_data(as_text=True)
    preview = admin_client.post("/admin/letters/quarantine_letter",
                                data={"action": "preview", "heading": "Stay home", "body": "Dear {full_name}"})
    assert preview.mimetype == "application/pdf" and "Dear Ione Sallow" in pdf_text(preview.data)
    refused = admin_client.post("/admin/letters/quarantine_letter",
                                data={"action": "save", "heading": "Stay home", "body": "Dear {ful_name}"})
    assert refused.status_code == 400 and "Unknown placeholder" in refused.get_data(as_text=True)
    saved = admin_client.post("/admin/letters/quarantine_letter",
                              data={"action": "save", "heading": "Stay home", "body": "Dear {full_name}"})
    assert saved.status_code == 302
    assert admin_client.get("/admin/letters/party").status_code == 404
