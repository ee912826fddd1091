"""The browser session cookie: signed, carrying only a session key; the server decides when it ends."""
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature


class SignedCookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, minus its own timestamp check.

    Idle and absolute time-outs are enforced on the server (`user_sessions`, tts/auth/sessions.py), which
    also ends sessions on sign-out and password change. Flask's check of the cookie's signing time adds
    nothing to that, and refuses every cookie signed "in the future", so a clock stepping back (NTP, a
    VM restored from a snapshot, a test's frozen clock) would sign every member of staff out at once.
    """

    def open_session(self, app, request):
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        try:
            return self.session_class(serializer.loads(value))
        except BadSignature:
            return self.session_class()
