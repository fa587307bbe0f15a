"""One HTTP exchange over a link that may drop anywhere: an answer is either whole or none.

A field link can be cut at any byte of the answer: inside the status line, inside the headers
(http.client then takes what came as the whole header block), inside the body. Whatever came
back cut short or garbled is *no answer* (`NoAnswer`, a `ConnectionError`), exactly like a
connection that never opened, so every caller retries or asks again instead of acting on half
an answer:

- the status line must be whole (http.client refuses a cut one);
- the body must be framed (Content-Length or chunked) and arrive whole, except where HTTP says
  there is none (1xx, 204, 304, HEAD);
- the headers a caller needs (tus's Upload-Offset, an upload's Location) must be there and well
  formed (`require`, name → check);
- a JSON answer must parse.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from typing import Any


class NoAnswer(ConnectionError):
    """The link dropped, or what came back was cut short or malformed: as if nothing came."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise NoAnswer(f"HTTP {self.status}: the answer is not whole JSON") from None


Checks = dict[str, Callable[[str], bool]]


def digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def _framed(method: str, status: int, headers: Message) -> bool:
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return True
    if "chunked" in (headers.get("Transfer-Encoding") or "").lower():
        return True
    return digits(headers.get("Content-Length") or "")


def _check(request: urllib.request.Request, status: int, headers: Message, require: Checks):
    method = request.get_method()
    if not _framed(method, status, headers):
        raise NoAnswer(f"{method} {request.full_url}: HTTP {status} with its headers cut short")
    for name, ok in require.items():
        value = headers.get(name)
        if value is None or not ok(value):
            raise NoAnswer(f"{method} {request.full_url}: HTTP {status} without a whole {name}")


def exchange(
    request: urllib.request.Request, timeout: float, require: Checks | None = None
) -> Answer:
    """Send the request and read the whole answer, whatever its status (4xx and 5xx included).
    `require` applies to successful (2xx) answers."""
    try:
        try:
            response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310
        except urllib.error.HTTPError as error:
            response = error
        with response:
            status = response.status if response.status is not None else response.code
            headers = response.headers
            body = response.read()
    except (OSError, http.client.HTTPException, ValueError) as error:
        # a refused or cut connection, a timeout, a cut status line (BadStatusLine,
        # RemoteDisconnected), a cut body (IncompleteRead), a garbled chunk size
        raise NoAnswer(f"{request.get_method()} {request.full_url}: {error!r}") from None
    _check(request, status, headers, (require or {}) if 200 <= status < 300 else {})
    return Answer(status, headers, body)


@contextmanager
def streamed(
    request: urllib.request.Request, timeout: float, require: Checks | None = None
) -> Iterator[http.client.HTTPResponse]:
    """A successful answer whose body the caller reads in pieces (a map package): its headers
    checked as `exchange` does; a cut while reading is NoAnswer too. An HTTP error answer is
    raised as urllib's HTTPError, its body unread."""
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            _check(request, response.status, response.headers, require or {})
            yield response
    except urllib.error.HTTPError:
        raise
    except (OSError, http.client.HTTPException, ValueError) as error:
        if isinstance(error, NoAnswer):
            raise
        raise NoAnswer(f"{request.get_method()} {request.full_url}: {error!r}") from None
