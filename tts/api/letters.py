"""API v1 letters: a record's letter as a PDF, made from it as it stands (the stored one when nothing in it
has changed), stored, and audited."""
from flask import Response, abort, g

from tts.api import bp
from tts.api.auth import api_require
from tts.api.openapi import operation
from tts.extensions import db
from tts.letters import services
from tts.outbreaks.models import Outbreak
from tts.people.access import case_or_403, contact_or_403

PDF = {"type": "string", "format": "binary"}


def _pdf(record) -> Response:
    letter, _ = services.make_letter(g.api_user, record)
    return Response(services.pdf_of(g.api_user, letter), mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{letter.filename}"', "Cache-Control": "no-store",
        "X-Letter-Id": str(letter.id)})


@bp.get("/cases/<id:case_id>/letters/isolation.pdf")
@operation("isolationNote", "The case's isolation note, for their employer (audited; stored on the case)",
           schema=PDF, media=("application/pdf",))
@api_require("case.create", record="own_case")
def isolation_note(case_id: int):
    return _pdf(case_or_403(g.api_user, case_id))


@bp.get("/contacts/<id:contact_id>/letters/quarantine.pdf")
@operation("quarantineLetter", "The contact's quarantine advice letter (audited; stored on the record)",
           schema=PDF, media=("application/pdf",))
@api_require("case.create", record="own_contact")
def quarantine_letter(contact_id: int):
    return _pdf(contact_or_403(g.api_user, contact_id))


@bp.get("/outbreaks/<id:outbreak_id>/letters/advice.pdf")
@operation("outbreakAdviceLetter", "The outbreak advice letter to the setting (audited; stored on the outbreak)",
           schema=PDF, media=("application/pdf",))
@api_require("outbreak.manage", record="role")
def outbreak_advice_letter(outbreak_id: int):
    return _pdf(db.session.get(Outbreak, outbreak_id) or abort(404))
