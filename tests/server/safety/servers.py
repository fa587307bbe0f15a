"""Local stand-ins for the far ends of delivery: an SMTP server (aiosmtpd) and an HTTP SMS
gateway, both real servers on loopback ports that record what they accepted."""

from __future__ import annotations

import json
import select
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from server.core.pgcluster import free_port


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(
                (envelope.rcpt_tos, message_from_bytes(envelope.original_content or b""))
            )
        return "250 OK"


class SmtpServer:
    def __init__(self) -> None:
        self.mailbox = _Mailbox()
        self.port = free_port()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list:
        with self.mailbox.lock:
            return list(self.mailbox.messages)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


@dataclass
class Gateway:
    """An SMS gateway that accepts a message only if it can still tell the sender so: a request
    whose sender went away while it was held is dropped, as a careful gateway would."""

    requests: list[dict] = field(default_factory=list)  # every request that arrived
    sent: list[dict] = field(default_factory=list)  # messages accepted for sending
    hold: threading.Event | None = None  # set: requests wait for `release`
    release: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(gateway: Gateway):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            entry = {"key": self.headers.get("Idempotency-Key"), **body}
            with gateway.lock:
                gateway.requests.append(entry)
            gateway.arrived.set()
            if gateway.hold is not None and gateway.hold.is_set():
                gateway.release.wait(60)
                readable, _, _ = select.select([self.connection], [], [], 0)
                if readable and self.connection.recv(1, 2) == b"":  # MSG_PEEK: sender gone
                    return
            with gateway.lock:
                gateway.sent.append(entry)
            answer = json.dumps({"status": "queued"}).encode()
            self.send_response(202)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    return Handler


class GatewayServer:
    def __init__(self) -> None:
        self.gateway = Gateway()
        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), _handler(self.gateway))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/send"

    def __enter__(self) -> GatewayServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.gateway.release.set()
        self.server.shutdown()
        self.server.server_close()
