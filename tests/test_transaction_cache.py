"""Rows read several times in one transaction (SMS templates, the policy in force) are read once per
transaction: a change made in the same transaction or committed before the next one is always seen."""
from sqlalchemy import event

from tts.clock import today
from tts.extensions import db
from tts.policies.services import create_policy_version, policy_in_force
from tts.telephony.services import get_template, update_template


def statements_during(fn) -> list[str]:
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return seen


def test_a_template_is_read_once_per_transaction_and_afresh_in_the_next(app):
    with app.app_context():
        first = get_template("introduction")
        again = statements_during(lambda: get_template("introduction"))
        assert again == [] and get_template("introduction") is first
        db.session.commit()

        # Another session (another request) changes it and commits.
        with app.app_context():
            other = get_template("introduction")
            update_template(None, other, body="Hello ((first_name)), the tracing team will call you soon: {link}",
                            is_enabled=True)
            db.session.commit()

        read = statements_during(lambda: get_template("introduction"))
        assert any("message_templates" in s for s in read)
        assert get_template("introduction").body == "Hello ((first_name)), the tracing team will call you soon: {link}"


def test_a_template_changed_in_this_transaction_is_the_one_used(app):
    with app.app_context():
        template = get_template("missed_call")
        update_template(None, template, body="Sorry we missed you, ((first_name)). Call ((team_phone)).",
                        is_enabled=False)
        assert get_template("missed_call").is_enabled is False
        db.session.rollback()
        assert get_template("missed_call").is_enabled is True


def test_a_new_policy_version_is_in_force_at_once_in_the_same_transaction(app):
    with app.app_context():
        before = policy_in_force()
        assert statements_during(policy_in_force) == []
        created = create_policy_version(None, effective_date=today(), case_isolation_days=7,
                                        contact_quarantine_days=9, infectious_days_before_onset=2)
        assert policy_in_force() is created and created is not before
        db.session.rollback()
        assert policy_in_force().case_isolation_days == before.case_isolation_days
