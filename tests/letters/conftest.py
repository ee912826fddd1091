import io

import pytest


def pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())  # lines wrap anywhere


class Mailbox:
    """A real SMTP server on a free loopback port (aiosmtpd), keeping every message it is handed."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list = []
        box = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd names it)
                import email

                box.messages.append(email.message_from_bytes(envelope.content))
                return "250 OK"

        import socket

        with socket.socket() as probe:  # a free port (the controller checks it is up by connecting to it)
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


@pytest.fixture
def mailbox(app, monkeypatch):
    with Mailbox() as box:
        for key, value in {"TTS_SMTP_HOST": "127.0.0.1", "TTS_SMTP_PORT": box.port, "TTS_SMTP_SECURITY": "none",
                           "TTS_SMTP_FROM": "tracing@council.example"}.items():
            monkeypatch.setitem(app.config, key, value)
        yield box
