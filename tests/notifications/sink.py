"""A real SMTP server (aiosmtpd) on a free loopback port that keeps what it receives."""

import socket
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


@dataclass
class Sink:
    """The messages received, parsed, and the port to point MAIL_PORT at."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    def wait_for(self, recipient: str, subject: str | None = None, timeout: float = 90) -> EmailMessage:
        """The first message to `recipient` (with `subject`, when given), waiting up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.messages:
                if message["To"] == recipient and subject in (None, message["Subject"]):
                    return message
            time.sleep(0.2)
        raise AssertionError(f"no {subject or 'email'!r} to {recipient}; got "
                             f"{[(m['To'], m['Subject']) for m in self.messages]}")


class _Handler:
    def __init__(self, sink: Sink):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):
        self.sink.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.sink.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_sink():
    """An SMTP sink for the test; configure the app with mail_config(sink)."""
    sink = Sink(port=free_port())
    # A fixed server name: otherwise aiosmtpd looks this machine's name up in DNS on every connection.
    controller = Controller(_Handler(sink), hostname="127.0.0.1", port=sink.port, server_hostname="localhost")
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


def mail_config(sink: Sink) -> dict:
    """App configuration that sends to the sink, from the web process (no worker runs in a unit test)."""
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": sink.port, "MAIL_TIMEOUT": 5, "MAIL_DELIVERY": "request",
            "MAIL_LOCAL_HOSTNAME": "localhost",
            "MAIL_DEFAULT_SENDER": "PolicyPass <no-reply@policypass.test>"}
