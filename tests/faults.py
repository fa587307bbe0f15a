"""A fault-injecting TCP proxy for tests: it forwards to a real server and cuts connections at
random byte offsets, in the request or in the response, like a 2G link that drops mid-request.

With `head_share`, that share of the cuts lands inside the message's head: its status line (or
request line) or its headers, which is where a client most easily takes half an answer for a
whole one; `head_cuts` counts the response cuts that landed before the end of the response's
header block."""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

IN_HEAD = -1  # a budget meaning: somewhere in the message's status (or request) line and headers


@dataclass
class FaultyProxy:
    upstream: tuple[str, int]
    cut_probability: float = 0.3
    seed: int = 0
    # a throttled link that resets after about this many request bytes on every connection
    reset_every: int | None = None
    rate_bytes_per_s: float | None = None
    head_share: float = 0.0  # of the cuts, those aimed inside status lines and headers
    cuts: int = 0
    head_cuts: int = 0  # response cuts that landed before the end of its header block
    # a deterministic cut: given the request's first bytes, where to cut its answer (or None)
    rule: Callable[[bytes], int | None] | None = None
    connections: int = 0
    bytes_up: int = 0  # request bytes that reached the server
    _rng: random.Random = field(init=False)
    _listener: socket.socket = field(init=False)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def close(self) -> None:
        self._stop.set()
        self._listener.close()

    def _budget(self) -> tuple[int | None, int | None]:
        """Bytes to let through before cutting: (request side, response side); None: no cut."""
        with self._lock:
            self.connections += 1
            if self.reset_every is not None:
                return int(self.reset_every * self._rng.uniform(0.9, 1.1)), None
            if self._rng.random() >= self.cut_probability:
                return None, None
            self.cuts += 1
            in_head = self._rng.random() < self.head_share
            at = IN_HEAD if in_head else self._rng.randint(0, 20_000)
            return (at, None) if self._rng.random() < 0.5 else (None, at)

    def _count(self, upstream: bool, n: int, cut: int | None = None) -> None:
        with self._lock:
            if upstream:
                self.bytes_up += n
            if cut is not None:
                self.cuts += 1

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        request_budget, response_budget = self._budget()
        try:
            server = socket.create_connection(self.upstream)
        except OSError:
            client.close()
            return
        done = threading.Event()
        request_head = bytearray()

        def pipe(source, sink, budget, upstream):
            sent = 0
            head = b""  # the message's first bytes, to tell where a cut landed
            try:
                while data := source.recv(16384):
                    if not head and not upstream and self.rule is not None:
                        budget = self.rule(bytes(request_head))
                        if budget is not None:
                            self._count(False, 0, cut=1)
                    if len(head) < 8192:
                        head += data[: 8192 - len(head)]
                        if upstream:
                            request_head[:] = head
                    if budget == IN_HEAD:  # a random byte of the head, status line included
                        end = head.find(b"\r\n\r\n")
                        with self._lock:
                            budget = self._rng.randint(0, end + 3 if end >= 0 else len(head) - 1)
                    if budget is not None and sent + len(data) > budget:
                        sink.sendall(data[: max(0, budget - sent)])
                        self._count(upstream, max(0, budget - sent), cut=self.reset_every)
                        end = head.find(b"\r\n\r\n")
                        if not upstream and (end < 0 or budget < end + 4):
                            with self._lock:
                                self.head_cuts += 1
                        break
                    sink.sendall(data)
                    sent += len(data)
                    self._count(upstream, len(data))
                    if self.rate_bytes_per_s:
                        time.sleep(len(data) / self.rate_bytes_per_s)
            except OSError:
                pass
            finally:
                done.set()

        threading.Thread(
            target=pipe, args=(client, server, request_budget, True), daemon=True
        ).start()
        threading.Thread(
            target=pipe, args=(server, client, response_budget, False), daemon=True
        ).start()
        done.wait(timeout=60)
        for s in (client, server):  # the cut: both ends see the connection die
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
