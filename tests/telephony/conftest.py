"""A fake HTTP client for the real twilio SDK: records every request, answers with Twilio-shaped JSON."""
import json
import logging
import uuid

import pytest
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator

from tts.telephony.client import SIMULATED_AUTH_TOKEN, TwilioGateway

ACCOUNT = "AC" + "1" * 32
SERVICE = "MG" + "2" * 32


class FakeTwilioHttp(HttpClient):
    def __init__(self):
        super().__init__(logger=logging.getLogger("fake-twilio"), is_async=False)
        self.requests: list[dict] = []
        self.script: list = []  # what the next requests get: an Exception, a Response, or None (the default)
        self.listed: list[dict] = []  # messages the list endpoint returns

    def request(self, method, uri, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False):
        self.requests.append({"method": method, "uri": uri, "params": dict(params or {}), "data": dict(data or {})})
        planned = self.script.pop(0) if self.script else None
        if isinstance(planned, Exception):
            raise planned
        if isinstance(planned, Response):
            return planned
        if uri.endswith("/Messages.json") and method == "POST":
            return Response(201, json.dumps({"sid": "SM" + uuid.uuid4().hex, "status": "queued",
                                             "to": data.get("To"), "body": data.get("Body")}))
        if uri.endswith("/Messages.json") and method == "GET":
            return Response(200, json.dumps({"messages": self.listed, "next_page_uri": None, "page": 0,
                                             "page_size": 20, "uri": uri}))
        if uri.endswith("/Calls.json"):
            return Response(201, json.dumps({"sid": "CA" + uuid.uuid4().hex, "status": "queued"}))
        if "/Messages/" in uri:
            return Response(200, json.dumps({"sid": uri.rsplit("/", 1)[-1].removesuffix(".json"),
                                             "status": "delivered", "error_code": None}))
        return Response(404, json.dumps({"code": 20404, "message": "not found", "status": 404}))

    def posts(self, suffix: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == "POST" and r["uri"].endswith(suffix)]


def twilio_error(status: int, code: int, message: str = "error") -> Response:
    return Response(status, json.dumps({"code": code, "message": message, "status": status}))


@pytest.fixture
def fake_twilio(app):
    """Swap the app's gateway for the real SDK over a fake HTTP client, for one test."""
    http = FakeTwilioHttp()
    previous = app.extensions["tts_gateway"]
    app.extensions["tts_gateway"] = TwilioGateway(account_sid=ACCOUNT, auth_token="test-auth-token",
                                                  messaging_service_sid=SERVICE, caller_id="+441144960000",
                                                  http_client=http)
    yield http
    app.extensions["tts_gateway"] = previous


def signed_post(client, app, path: str, params: dict, token: str = SIMULATED_AUTH_TOKEN, headers=None):
    url = app.config["TTS_PUBLIC_URL"].rstrip("/") + path
    signature = RequestValidator(token).compute_signature(url, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature, **(headers or {})})
