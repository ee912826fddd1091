"""Twilio's webhooks: every one checks X-Twilio-Signature against the public URL, in every mode."""
from collections.abc import Callable
from functools import wraps

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

from tts.input_guard import bounded_int, record_id
from tts.extensions import csrf, db
from tts.permissions import Access, declare
from tts.telephony import services, webhooks_bp
from tts.telephony.client import webhook_auth_token
from tts.telephony.models import PhoneCall

csrf.exempt(webhooks_bp)


def signed_url() -> str:
    """The URL Twilio called, as the public sees it (behind a proxy request.url is the internal one)."""
    query = request.query_string.decode()
    return current_app.config["TTS_PUBLIC_URL"].rstrip("/") + request.path + (f"?{query}" if query else "")


def twilio_signed(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(*args, **kwargs):
        signature = request.headers.get("X-Twilio-Signature", "")
        key = webhook_auth_token()
        if not signature or not key or not RequestValidator(key).validate(signed_url(), request.form, signature):
            abort(403)
        return view(*args, **kwargs)

    return declare(wrapped, Access("twilio"))


def _int(name: str) -> int | None:
    return bounded_int(request.form.get(name, ""))


@webhooks_bp.post("/sms/status")
@twilio_signed
def sms_status():
    sid, status = request.form.get("MessageSid", ""), request.form.get("MessageStatus", "")
    key = request.headers.get("I-Twilio-Idempotency-Token") or f"sms:{sid}:{status}"
    if services.remember_event(key, "sms_status"):
        services.apply_message_status(sid, status, _int("ErrorCode"))
    return "", 204


@webhooks_bp.post("/sms/inbound")
@twilio_signed
def sms_inbound():
    services.receive_sms(sid=request.form.get("MessageSid", ""), from_number=request.form.get("From", ""),
                         to_number=request.form.get("To"), body=request.form.get("Body", ""))
    # An empty TwiML response: STOP/HELP replies come from Twilio's own opt-out handling.
    return "<Response/>", 200, {"Content-Type": "text/xml"}


@webhooks_bp.post("/voice/status")
@twilio_signed
def voice_status():
    sid, status = request.form.get("CallSid", ""), request.form.get("CallStatus", "")
    key = request.headers.get("I-Twilio-Idempotency-Token") or f"voice:{sid}:{status}:{request.form.get('SequenceNumber', '')}"
    if services.remember_event(key, "voice_status"):
        services.apply_call_status(sid, status, _int("SequenceNumber"), _int("CallDuration"))
    return "", 204


@webhooks_bp.post("/voice/bridge")
@twilio_signed
def voice_bridge():
    """Twilio fetches this when the tracer answers: connect them to the person, showing the team's number."""
    call = db.session.get(PhoneCall, request.args.get("call", type=record_id) or 0)
    response = VoiceResponse()
    if call is None or (call.twilio_sid and request.form.get("CallSid") not in (None, call.twilio_sid)):
        response.say("Sorry, this call could not be connected.")
        response.hangup()
    else:
        response.say("Connecting your call.")
        dial = response.dial(caller_id=current_app.config.get("TWILIO_CALLER_ID"))
        dial.number(call.person.phone)
    return str(response), 200, {"Content-Type": "text/xml"}
