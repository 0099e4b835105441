"""Real receivers on loopback for the notification tests: an SMTP server (aiosmtpd) and
an HTTP webhook server (http.server), each recording what arrived with its
idempotency key, and deduplicating on it as a careful receiver does."""

from __future__ import annotations

import email
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Record:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.raw: list[str] = []  # every accepted delivery's key, duplicates included
        self.messages: dict[str, dict] = {}  # first copy per key

    def accept(self, key: str, message: dict) -> None:
        with self.lock:
            self.raw.append(key)
            self.messages.setdefault(key, message)

    @property
    def counts(self) -> Counter:
        with self.lock:
            return Counter(self.raw)


class SmtpReceiver(_Record):
    """aiosmtpd on a free loopback port; ``target(to)`` is the Apprise mailto:// URL."""

    def __init__(self) -> None:
        super().__init__()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd hook
        msg = email.message_from_bytes(envelope.content, policy=default_policy)
        body = msg.get_body(preferencelist=("plain",))
        self.accept(str(msg.get("Idempotency-Key")), {
            "to": list(envelope.rcpt_tos), "subject": str(msg["subject"]),
            "text": body.get_content() if body is not None else ""})
        return "250 OK"

    def target(self, to: str) -> str:
        return (f"mailto://127.0.0.1:{self.port}?from=noreply@ambon.go.id&to={to}"
                "&mode=insecure&name=Pusat+Komando")

    def __enter__(self) -> SmtpReceiver:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


class WebhookReceiver(_Record):
    """A JSON webhook on a free loopback port. ``fail(key, attempt)`` decides a 500;
    ``delay_s`` makes each request slow (so a kill can land between send and mark)."""

    def __init__(self, fail: Callable[[str, int], bool] | None = None,
                 delay_s: float = 0.0, on_accept: Callable[[str], None] | None = None) -> None:
        super().__init__()
        self.fail = fail or (lambda key, attempt: False)
        self.delay_s, self.on_accept = delay_s, on_accept
        self.attempts: Counter = Counter()
        self.received_at: dict[str, float] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                data = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers.get("Idempotency-Key") or data.get("idempotency_key")
                with receiver.lock:
                    receiver.attempts[key] += 1
                    attempt = receiver.attempts[key]
                if receiver.delay_s:
                    time.sleep(receiver.delay_s)  # a slow target, not synchronisation
                if receiver.fail(key, attempt):
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.received_at.setdefault(key, time.time())
                receiver.accept(key, {"header": self.headers.get("Idempotency-Key"), **data})
                if receiver.on_accept:
                    receiver.on_accept(key)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]

    def target(self, path: str = "/hook") -> str:
        return f"json://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> WebhookReceiver:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_for(condition: Callable[[], bool], timeout_s: float = 30.0, step: Callable[[], None]
             | None = None) -> None:
    """Poll ``condition`` (calling ``step`` between polls) until true or time is up."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        if step is not None:
            step()
        else:
            time.sleep(0.05)
