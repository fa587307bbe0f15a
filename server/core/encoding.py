"""Compressed request bodies: gzip is decompressed as a stream, with caps on size and ratio.

A WSGI middleware, so every endpoint (and the schema parsing in front of it) sees plain JSON.
A body that would inflate past the request limit, or inflates suspiciously fast (a gzip bomb),
is refused with 413 before it is ever held whole in memory; an unknown encoding gets 415.
"""

from __future__ import annotations

import io
import json
import zlib
from collections.abc import Callable, Iterable

from server.core.params import NotANumber, whole_number

READ_SIZE = 64 * 1024
RATIO_GRACE_BYTES = 1024 * 1024  # small bodies may compress very well; judge the ratio past this


class RequestDecoding:
    def __init__(self, app: Callable, max_bytes: int, max_ratio: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_ratio = max_ratio

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        encoding = environ.get("HTTP_CONTENT_ENCODING", "").strip().lower()
        if encoding in ("", "identity"):
            return self.app(environ, start_response)
        if encoding not in ("gzip", "x-gzip"):
            return _problem(
                environ,
                start_response,
                415,
                "unsupported-content-encoding",
                "Unsupported content encoding",
                f"Content-Encoding {encoding!r} is not supported; send gzip or nothing",
            )
        try:
            body = self._inflate(environ)
        except _TooLarge as error:
            return _problem(
                environ,
                start_response,
                413,
                "request-too-large",
                "Request body too large",
                str(error),
            )
        except zlib.error as error:
            return _problem(
                environ,
                start_response,
                400,
                "bad-request",
                "Bad Request",
                f"the gzip body is corrupt: {error}",
            )
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        del environ["HTTP_CONTENT_ENCODING"]
        return self.app(environ, start_response)

    def _inflate(self, environ: dict) -> bytes:
        stream = environ["wsgi.input"]
        declared = environ.get("CONTENT_LENGTH")
        try:
            remaining = whole_number(declared, "Content-Length") if declared else None
        except NotANumber:
            remaining = None  # read to the end of the stream, within the caps
        if remaining is not None and remaining > self.max_bytes:
            raise _TooLarge(f"the compressed body is over {self.max_bytes} bytes")
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = bytearray()
        read = 0
        while True:
            size = READ_SIZE if remaining is None else min(READ_SIZE, remaining - read)
            chunk = stream.read(size) if size > 0 else b""
            if not chunk:
                break
            read += len(chunk)
            if read > self.max_bytes:
                raise _TooLarge(f"the compressed body is over {self.max_bytes} bytes")
            data = chunk
            while data:
                out += inflater.decompress(data, self.max_bytes + 1 - len(out))
                data = inflater.unconsumed_tail
                self._check(len(out), read)
        out += inflater.flush()
        self._check(len(out), read)
        if not inflater.eof:
            raise zlib.error("the gzip stream ends early")
        return bytes(out)

    def _check(self, inflated: int, compressed: int) -> None:
        if inflated > self.max_bytes:
            raise _TooLarge(f"the body inflates past {self.max_bytes} bytes")
        if inflated > RATIO_GRACE_BYTES and inflated > self.max_ratio * max(compressed, 1):
            raise _TooLarge(
                f"the body inflates more than {self.max_ratio}:1, which only a decompression "
                "bomb does"
            )


class _TooLarge(Exception):
    pass


def _problem(environ, start_response, status: int, code: str, title: str, detail: str):
    body = json.dumps(
        {
            "type": f"/problems/{code}",
            "title": title,
            "status": status,
            "detail": detail,
            "instance": environ.get("PATH_INFO", ""),
        }
    ).encode()
    reason = {400: "Bad Request", 413: "Content Too Large", 415: "Unsupported Media Type"}[status]
    start_response(
        f"{status} {reason}",
        [("Content-Type", "application/problem+json"), ("Content-Length", str(len(body)))],
    )
    return [body]
