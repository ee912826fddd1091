"""The Cases list (tts/cases/finding.py and the page, and GET /api/v1/cases): partial surname, reference,
phone in any format and postcode; filters, sort and pages; least privilege; bulk actions. Both databases."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import UserFactory, person_data
from tts.audit.models import AuditEvent
from tts.callqueue.models import ItemStatus, WorkItem
from tts.cases import bulk
from tts.cases.finding import CaseSearch, find_cases, parse_search
from tts.cases.models import Case
from tts.cases.services import create_case
from tts.clock import today
from tts.errors import ValidationFailed
from tts.extensions import db
from tts.telephony.models import Message

D = timedelta(days=1)


@pytest.fixture
def env(app, daytime):
    with app.app_context():
        yield daytime


def log(n, actor=None, **kw):
    test_date = kw.pop("test_date", today())
    return create_case(actor, person_data(n, **kw), test_date=test_date, symptom_onset_date=None)


def refs(page):
    return sorted(c.reference for c in page.items)


def test_q_reads_a_partial_surname_a_reference_a_phone_in_any_format_and_a_postcode(env):
    boss = UserFactory(role="supervisor")
    a = log(1, first_name="Annika", last_name="Thistlewood", phone="07700 900101", postcode="S11 8QT")
    b = log(2, first_name="Bram", last_name="Whistler", phone="07700 900102", postcode="S2 4SU")
    c = log(3, first_name="Annabel", last_name="Thistlewood", phone="07700 900103", postcode="S11 9ZZ")

    def found(q):
        return refs(find_cases(boss, parse_search({"q": q})))

    assert found("istle") == sorted([a.reference, b.reference, c.reference])  # contains, any case
    assert found("thistle") == sorted([a.reference, c.reference])
    assert found("Annik thistle") == [a.reference]  # first name prefix + surname part
    assert found(a.reference.lower()) == [a.reference]
    assert found(a.reference.removeprefix("TTS-")) == [a.reference]
    assert found("+44 7700 900102") == [b.reference] == found("07700900102") == found("(07700) 900 102")
    assert found("s118qt") == [a.reference]
    assert found("S11") == sorted([a.reference, c.reference])  # a district
    page = find_cases(boss, parse_search({"q": "thistle"}))
    assert page.total == 2 and page.matched_by == ["name"]


def test_a_search_too_short_or_filters_that_make_no_sense_name_each_field(env):
    with pytest.raises(ValidationFailed) as exc:
        parse_search({"q": "ab", "status": "lost", "page": "0", "per_page": "500", "date_from": "2026-13-01",
                      "district": "not one", "sort": "shoe size", "tracer_id": "x"})
    assert set(exc.value.errors) == {"q", "status", "page", "per_page", "date_from", "district", "sort", "tracer_id"}
    with pytest.raises(ValidationFailed) as exc:
        parse_search({"date_from": "2026-12-02", "date_to": "2026-12-01"})
    assert set(exc.value.errors) == {"date_to"}


def test_filters_sort_and_pages(env):
    boss, tracer = UserFactory(role="supervisor"), UserFactory(role="tracer")
    made = [log(n, actor=tracer if n % 2 else None, test_date=today() - n * D,
                postcode="S11 8QT" if n < 4 else "S2 4SU") for n in range(1, 8)]
    made[0].status = "closed"
    db.session.flush()
    assert find_cases(boss, CaseSearch()).total == 7
    assert refs(find_cases(boss, parse_search({"status": "closed"}))) == [made[0].reference]
    assert find_cases(boss, parse_search({"tracer_id": str(tracer.id)})).total == 4
    assert find_cases(boss, parse_search({"district": "s11"})).total == 3
    window = find_cases(boss, parse_search({"date_from": (today() - 3 * D).isoformat(),
                                            "date_to": (today() - 2 * D).isoformat()}))
    assert refs(window) == sorted([made[1].reference, made[2].reference])
    first = find_cases(boss, parse_search({"sort": "test_date", "per_page": "3"}))
    second = find_cases(boss, parse_search({"sort": "test_date", "per_page": "3", "page": "2"}))
    last = find_cases(boss, parse_search({"sort": "test_date", "per_page": "3", "page": "3"}))
    assert [c.reference for c in first.items + second.items + last.items] == [c.reference for c in made]
    assert (first.total, first.pages, len(last.items)) == (7, 3, 1)
    by_name = find_cases(boss, parse_search({"sort": "name"}))
    names = [c.person.last_name for c in by_name.items]
    assert names == sorted(names)


def test_a_tracer_finds_only_the_cases_on_their_own_work(env):
    mine_user, other_user = UserFactory(role="tracer"), UserFactory(role="tracer")
    mine = log(1, actor=mine_user, last_name="Marrowfield")
    theirs = log(2, actor=other_user, last_name="Marrowfield", first_name="Ottilie")
    assert refs(find_cases(mine_user, parse_search({"q": "marrow"}))) == [mine.reference]
    assert find_cases(mine_user, parse_search({"q": theirs.reference})).total == 0
    # Given the case's call, it is on their work.
    item = db.session.scalar(select(WorkItem).where(WorkItem.case_id == theirs.id))
    item.assignee_id = mine_user.id
    db.session.flush()
    assert find_cases(mine_user, parse_search({"q": "marrow"})).total == 2


def test_the_page_searches_by_post_keeps_names_out_of_the_url_and_audits_the_list(app, client, make_user, daytime):
    from tests.conftest import sign_in

    boss = make_user("supervisor")
    with app.app_context():
        log(1, last_name="Quenbury", first_name="Sorrel")
        log(2, last_name="Penhallow", first_name="Tamsin")
        db.session.commit()
    sign_in(client, boss)
    response = client.post("/cases/", data={"q": "quenb"})
    assert response.status_code == 302 and "quenb" not in response.location.lower()
    html = client.get(response.location).get_data(as_text=True)
    assert "Sorrel Quenbury" in html and "Tamsin Penhallow" not in html and "1 case found" in html
    assert "read as part of a name" in html
    bad = client.post("/cases/", data={"q": "qu", "district": "nowhere"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and 'href="#q"' in text and 'href="#district"' in text
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "people.list_view")
                                   .order_by(AuditEvent.id.desc())).first()
        assert event.details["page"] == "cases" and len(event.details["person_ids"]) == 1
    assert "Tamsin Penhallow" in client.get("/cases/?clear=1", follow_redirects=True).get_data(as_text=True)


def test_the_api_lists_cases_with_the_contracted_shape(app, client, api_token, daytime):
    headers, _ = api_token("supervisor")
    for n, surname in enumerate(("Ravensworth", "Ravenhill", "Oakhampton")):
        assert client.post("/api/v1/cases", headers=headers, json={
            "person": {"first_name": "Wren", "last_name": surname, "date_of_birth": f"198{n}-01-02",
                       "phone": f"07700 90020{n}", "address": f"{n} Pretend Place, Sheffield", "postcode": "S1 2HH"},
            "test_date": today().isoformat(), "symptom_onset_date": None}).status_code == 201
    body = client.get("/api/v1/cases?q=raven&per_page=1&page=2", headers=headers).get_json()
    assert {k: body[k] for k in ("total", "page", "per_page")} == {"total": 2, "page": 2, "per_page": 1}
    assert len(body["items"]) == 1 and body["items"][0]["person"]["last_name"].startswith("Raven")
    assert client.get("/api/v1/cases?status=open", headers=headers).get_json()["total"] == 3
    bad = client.get("/api/v1/cases?q=r&per_page=1000", headers=headers)
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"q", "per_page"}
    tracer_headers, _ = api_token("tracer")
    assert client.get("/api/v1/cases?q=raven", headers=tracer_headers).get_json()["total"] == 0


# --- Bulk actions ----------------------------------------------------------------------------------------


def test_bulk_close_skips_what_is_already_finished_and_cancels_the_rest_s_calls(env):
    boss = UserFactory(role="supervisor")
    cases = [log(n) for n in range(1, 4)]
    cases[2].status = "completed"
    with pytest.raises(ValidationFailed) as exc:
        bulk.close_cases(boss, [c.id for c in cases], reason="other", notes="")
    assert set(exc.value.errors) == {"notes"}
    report = bulk.close_cases(boss, [c.id for c in cases], reason="refused", notes=None)
    assert [c.id for c in report.done] == [cases[0].id, cases[1].id]
    assert [(c.id, why) for c, why in report.skipped] == [(cases[2].id, "Already completed")]
    assert {c.status for c in cases[:2]} == {"closed"}
    assert not db.session.scalars(select(WorkItem).where(WorkItem.case_id.in_([cases[0].id, cases[1].id]),
                                                         WorkItem.status != ItemStatus.CANCELLED)).all()


def test_bulk_assign_gives_the_tracer_the_cases_and_their_waiting_calls(env):
    boss, tracer = UserFactory(role="supervisor"), UserFactory(role="tracer")
    cases = [log(n) for n in range(1, 3)]
    with pytest.raises(ValidationFailed) as exc:
        bulk.assign_cases(boss, [c.id for c in cases], assignee_id=None)
    assert set(exc.value.errors) == {"assignee_id"}
    report = bulk.assign_cases(boss, [c.id for c in cases], assignee_id=tracer.id)
    assert len(report.done) == 2 and all(c.assigned_to_id == tracer.id for c in cases)
    items = db.session.scalars(select(WorkItem).where(WorkItem.case_id.in_([c.id for c in cases]))).all()
    assert items and {i.assignee_id for i in items} == {tracer.id}
    assert find_cases(tracer, CaseSearch()).total == 2


def test_bulk_text_reports_who_was_skipped_and_why(env):
    boss = UserFactory(role="supervisor")
    ok = log(1)
    opted_out = log(2)
    opted_out.person.has_sms_opt_out = True
    landline = log(3, phone="0114 496 0123")
    no_phone = log(4, phone=None)
    ids = [c.id for c in (ok, opted_out, landline, no_phone)]
    with pytest.raises(ValidationFailed) as exc:
        bulk.text_cases(boss, ids, trigger="no_such_text")
    assert set(exc.value.errors) == {"trigger"}
    before = db.session.scalar(select(db.func.count()).select_from(Message).where(Message.status == "queued"))
    report = bulk.text_cases(boss, ids, trigger="isolation_advice")
    assert [c.id for c in report.done] == [ok.id]
    why = {c.id: reason for c, reason in report.skipped}
    assert "opted out" in why[opted_out.id] and "not a mobile" in why[landline.id]
    assert why[no_phone.id] == "Not sent: no phone number"
    after = db.session.scalar(select(db.func.count()).select_from(Message).where(Message.status == "queued"))
    assert after == before + 1


def test_the_bulk_pages_confirm_then_report_and_a_refresh_does_nothing_twice(app, client, make_user, daytime):
    from tests.conftest import sign_in

    boss = make_user("supervisor")
    with app.app_context():
        ids = [log(n).id for n in range(1, 3)]
        db.session.commit()
    sign_in(client, boss)
    confirm = client.post("/cases/bulk", data={"action": "close", "case_ids": ids})
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "Close 2 cases" in html
    nonce = html.split('name="nonce" value="')[1].split('"')[0]
    missing = client.post("/cases/bulk", data={"action": "close", "case_ids": ids, "confirm": "1", "nonce": nonce})
    assert missing.status_code == 400 and 'href="#reason"' in missing.get_data(as_text=True)
    nonce = missing.get_data(as_text=True).split('name="nonce" value="')[1].split('"')[0]
    done = client.post("/cases/bulk", data={"action": "close", "case_ids": ids, "confirm": "1", "nonce": nonce,
                                            "reason": "duplicate"})
    assert done.status_code == 200 and "Closed 2 cases" in done.get_data(as_text=True)
    again = client.post("/cases/bulk", data={"action": "close", "case_ids": ids, "confirm": "1", "nonce": nonce,
                                             "reason": "duplicate"})
    assert again.status_code == 302
    with app.app_context():
        assert {c.status for c in db.session.scalars(select(Case).where(Case.id.in_(ids)))} == {"closed"}


def test_tracers_may_not_use_bulk_actions(tracer_client):
    assert tracer_client.post("/cases/bulk", data={"action": "close", "case_ids": [1]}).status_code == 403


def test_counts_stop_at_the_cap_and_say_so(env, monkeypatch):
    from tts.cases import finding

    monkeypatch.setattr(finding, "COUNT_CAP", 3)
    boss = UserFactory(role="supervisor")
    for n in range(1, 6):
        log(n)
    page = find_cases(boss, parse_search({"per_page": "2"}))
    assert (page.total, page.more, page.pages) == (3, True, 2)
    assert find_cases(boss, parse_search({"per_page": "2", "page": "3"})).items == []  # past the cap
    exact = find_cases(boss, parse_search({"per_page": "2", "status": "open", "q": log(7).reference}))
    assert (exact.total, exact.more) == (1, False)
