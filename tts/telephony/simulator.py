"""Simulated mode: fire Twilio-shaped, correctly signed events at the app's own webhooks."""
import uuid

from flask import current_app
from twilio.request_validator import RequestValidator

from tts.transaction import commit_step
from tts.telephony.client import webhook_auth_token


def fire(path: str, params: dict) -> int:
    """POST a signed webhook through the real handler (signature check included); returns the status.
    The caller's transaction is committed first, so the handler sees its rows and no lock is held."""
    commit_step("the simulated webhook is a request of its own: it must see this one's rows")
    url = current_app.config["TTS_PUBLIC_URL"].rstrip("/") + path
    signature = RequestValidator(webhook_auth_token()).compute_signature(url, params)
    with current_app.test_client() as client:
        response = client.post(path, data=params, headers={"X-Twilio-Signature": signature})
    return response.status_code


def message_status(sid: str, status: str, error_code: int | None = None) -> int:
    params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "ACsimulated"}
    if error_code:
        params["ErrorCode"] = str(error_code)
    return fire("/twilio/sms/status", params)


def inbound(from_number: str, body: str) -> int:
    return fire("/twilio/sms/inbound", {"MessageSid": "SM" + uuid.uuid4().hex, "From": from_number,
                                        "To": "+447700900000", "Body": body, "AccountSid": "ACsimulated"})


def complete_call(sid: str, duration: int = 127) -> None:
    """The status callbacks of an answered, finished call, in order."""
    for sequence, status in enumerate(("initiated", "ringing", "in-progress", "completed")):
        params = {"CallSid": sid, "CallStatus": status, "SequenceNumber": str(sequence), "AccountSid": "ACsimulated"}
        if status == "completed":
            params["CallDuration"] = str(duration)
        fire("/twilio/voice/status", params)
