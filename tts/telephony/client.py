"""The one module that talks to Twilio: a real gateway over the twilio SDK, and a simulated one."""
import hashlib
import hmac
import logging
import os
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

import requests
from flask import Flask, current_app
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

log = logging.getLogger(__name__)
SIMULATED_AUTH_TOKEN = "simulated-twilio-auth-token"  # signs the simulated gateway's events in development
# Twilio error codes after which resending can never help.
PERMANENT_CODES = {21211, 21614, 21610, 21408, 20003, 21612, 21606, 30004, 30005, 30006}
RETRY_CODES = {20429}


@dataclass
class Sent:
    sid: str
    status: str


class DeliveryError(Exception):
    """kind: `retry` (certainly nothing sent), `ambiguous` (may have been sent), or `permanent`."""

    def __init__(self, kind: str, message: str, code: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.code = code


def classify(exc: Exception) -> DeliveryError:
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.ConnectionError) and not isinstance(
            exc, requests.exceptions.ReadTimeout):
        return DeliveryError("retry", "Could not connect to Twilio")
    if isinstance(exc, requests.exceptions.Timeout):
        return DeliveryError("ambiguous", "Twilio did not answer in time")
    if isinstance(exc, TwilioRestException):
        if exc.status == 429 or exc.code in RETRY_CODES:
            return DeliveryError("retry", "Twilio asked us to slow down", exc.code or 20429)
        if exc.status >= 500:
            return DeliveryError("ambiguous", f"Twilio answered {exc.status}", exc.code)
        return DeliveryError("permanent", exc.msg or f"Twilio refused the request ({exc.status})", exc.code)
    return DeliveryError("ambiguous", f"Unexpected error: {type(exc).__name__}")


class TwilioGateway:
    is_simulated = False

    def __init__(self, *, account_sid: str, auth_token: str | None = None, api_key: str | None = None,
                 api_secret: str | None = None, sms_from: str | None = None,
                 messaging_service_sid: str | None = None, caller_id: str | None = None, http_client=None):
        if api_key and api_secret:
            self.client = Client(api_key, api_secret, account_sid, http_client=http_client)
        else:
            self.client = Client(account_sid, auth_token, http_client=http_client)
        self.sms_from = sms_from
        self.messaging_service_sid = messaging_service_sid
        self.caller_id = caller_id

    @property
    def sender(self) -> str | None:
        return self.sms_from

    def send_sms(self, *, to: str, body: str, status_callback: str) -> Sent:
        kwargs = {"to": to, "body": body, "status_callback": status_callback}
        if self.messaging_service_sid:
            kwargs["messaging_service_sid"] = self.messaging_service_sid
        else:
            kwargs["from_"] = self.sms_from
        try:
            message = self.client.messages.create(**kwargs)
        except Exception as exc:  # classified for the retry rules; nothing else is swallowed here
            raise classify(exc) from exc
        return Sent(message.sid, message.status)

    def find_sent(self, *, to: str, body: str, since: datetime) -> Sent | None:
        """After an ambiguous failure: did Twilio create the message after all?"""
        kwargs = {"to": to, "date_sent_after": since, "limit": 20}
        if not self.messaging_service_sid:
            kwargs["from_"] = self.sms_from
        try:
            for message in self.client.messages.list(**kwargs):
                if message.body == body:
                    return Sent(message.sid, message.status)
        except Exception as exc:
            raise classify(exc) from exc
        return None

    def fetch_message(self, sid: str) -> tuple[str, int | None]:
        try:
            message = self.client.messages(sid).fetch()
        except Exception as exc:
            raise classify(exc) from exc
        return message.status, message.error_code

    def start_call(self, *, to: str, url: str, status_callback: str) -> Sent:
        try:
            call = self.client.calls.create(
                to=to, from_=self.caller_id, url=url, method="POST", status_callback=status_callback,
                status_callback_method="POST",
                status_callback_event=["initiated", "ringing", "answered", "completed"])
        except Exception as exc:
            raise classify(exc) from exc
        return Sent(call.sid, call.status)


class SimulatedGateway:
    """No network: accepts messages and calls and gives them SIDs. Events are fired from the app."""

    is_simulated = True
    sender = "+447700900000"

    def __init__(self, latency_seconds: float = 0.0, record_to: str | None = None):
        self.latency_seconds = latency_seconds  # a real API call takes 100-300 ms: for benchmarks and drills
        # A file every send is noted in (one line: the number, a hash of the text), whichever process sends:
        # the several-servers test counts texts sent twice from it. Nothing personal: the number is fictional
        # in every test, and the text is hashed.
        self.record_to = record_to

    def send_sms(self, *, to: str, body: str, status_callback: str) -> Sent:
        if self.latency_seconds:
            time.sleep(self.latency_seconds)
        sid = "SM" + uuid.uuid4().hex
        if self.record_to:
            line = f"{sid} {hashlib.sha256(f'{to} {body}'.encode()).hexdigest()}\n".encode()
            descriptor = os.open(self.record_to, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(descriptor, line)  # one write of a short line with O_APPEND: whole, whatever else writes
            finally:
                os.close(descriptor)
        return Sent(sid, "queued")

    def find_sent(self, *, to: str, body: str, since: datetime) -> Sent | None:
        return None

    def fetch_message(self, sid: str) -> tuple[str, int | None]:
        return "delivered", None  # in the simulated world every accepted text arrives

    def start_call(self, *, to: str, url: str, status_callback: str) -> Sent:
        return Sent("CA" + uuid.uuid4().hex, "queued")


def build_gateway(config) -> TwilioGateway | SimulatedGateway:
    if not config.get("TWILIO_ACCOUNT_SID"):
        return SimulatedGateway(latency_seconds=config.get("TTS_SIMULATED_GATEWAY_LATENCY_MS", 0) / 1000,
                                record_to=config.get("TTS_SIMULATED_GATEWAY_RECORD"))
    from twilio.http.http_client import TwilioHttpClient

    # A bounded time-out: the outbox's orphan rule (TTS_OUTBOX_ORPHAN_MINUTES) relies on no send lasting longer.
    http = TwilioHttpClient(timeout=config.get("TTS_TWILIO_TIMEOUT_SECONDS", 15))
    return TwilioGateway(http_client=http, account_sid=config["TWILIO_ACCOUNT_SID"],
                         auth_token=config.get("TWILIO_AUTH_TOKEN"),
                         api_key=config.get("TWILIO_API_KEY"), api_secret=config.get("TWILIO_API_SECRET"),
                         sms_from=config.get("TWILIO_SMS_FROM"),
                         messaging_service_sid=config.get("TWILIO_MESSAGING_SERVICE_SID"),
                         caller_id=config.get("TWILIO_CALLER_ID"))


def init_app(app: Flask) -> None:
    if check_settings(app.config) == "simulated" and not app.config.get("TTS_DEVELOPMENT_TWILIO_KEY"):
        log.warning("SIMULATED TWILIO (TTS_SIMULATED_TWILIO=1): no text or call reaches anyone; "
                    "webhooks are checked with a key derived from SECRET_KEY")
    app.extensions["tts_gateway"] = build_gateway(app.config)


def gateway() -> TwilioGateway | SimulatedGateway:
    return current_app.extensions["tts_gateway"]


def check_settings(config) -> str:
    """At start-up: "twilio", "simulated", or a RuntimeError for a server that would take webhooks it cannot
    check (Twilio without its auth token), or a production server with no Twilio settings and no explicit
    TTS_SIMULATED_TWILIO=1."""
    if config.get("TWILIO_ACCOUNT_SID"):
        if not config.get("TWILIO_AUTH_TOKEN"):
            raise RuntimeError("TWILIO_AUTH_TOKEN must be set with TWILIO_ACCOUNT_SID: webhooks are checked with it")
        return "twilio"
    if not config.get("TTS_SIMULATED_TWILIO"):
        raise RuntimeError("Set the TWILIO_* settings, or TTS_SIMULATED_TWILIO=1 to run with simulated texts and "
                           "calls (nothing reaches anyone)")
    return "simulated"


def webhook_auth_token() -> str | None:
    """The secret webhooks are signed with: the account's auth token, or, when simulated Twilio is allowed,
    the simulator's own (in production derived from SECRET_KEY, so no key in the source ever verifies a
    webhook there). None: no webhook can be verified, and every one is refused."""
    config = current_app.config
    token = config.get("TWILIO_AUTH_TOKEN")
    if token:
        return token
    if config.get("TWILIO_ACCOUNT_SID") or not config.get("TTS_SIMULATED_TWILIO"):
        return None
    if config.get("TTS_DEVELOPMENT_TWILIO_KEY"):
        return SIMULATED_AUTH_TOKEN
    return hmac.new(config["SECRET_KEY"].encode(), b"tts simulated twilio webhooks", hashlib.sha256).hexdigest()
