"""Compressed answers: text and JSON (pages, scripts, styles, API answers, GeoJSON, vector tiles)
go out as Brotli or gzip when the client accepts it, which takes the map page from about 1.8 MB
to about 0.3 MB on the wire (tests/server/core/test_compression.py prints the figures).

A WSGI middleware, so everything the app answers is covered the same way. It compresses only a
whole answer of known length (Content-Length) with status 200, of a compressible type, larger
than `min_bytes`: never a stream (the live SSE feed, streamed exports: no Content-Length), a
partial answer (206), something already encoded (Content-Encoding) or already compressed by its
nature (photos, PDF, zip, map packages: not in the list), nor anything marked no-transform.
Every compressible answer says `Vary: Accept-Encoding`, compressed or not, so caches keep the
variants apart; a compressed answer's ETag becomes weak (W/"…"), as its bytes differ from the
identity's while it means the same thing, so If-None-Match still gives 304.

Answers with a strong ETag (the front-end libraries, static files) are compressed once, harder,
and kept in a bounded cache keyed by path, ETag and encoding: a 1 MB script costs 0.2 s once.
"""

from __future__ import annotations

import gzip
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable

import brotli

COMPRESSIBLE = frozenset(
    {
        "text/html",
        "text/css",
        "text/plain",
        "text/csv",
        "text/javascript",
        "application/javascript",
        "application/json",
        "application/geo+json",
        "application/problem+json",
        "application/schema+json",
        "application/vnd.oai.openapi+json",
        "application/xml",
        "application/gpx+xml",
        "application/vnd.google-earth.kml+xml",
        "image/svg+xml",
        "application/vnd.mapbox-vector-tile",
        "application/x-protobuf",
    }
)
ENCODINGS = ("br", "gzip")  # our preference, when the client accepts both equally
DYNAMIC_LEVEL = {"br": 5, "gzip": 6}  # per request: fast
CACHED_LEVEL = {"br": 9, "gzip": 9}  # once per file version: smaller


def _compress(body: bytes, encoding: str, level: int) -> bytes:
    if encoding == "br":
        return brotli.compress(body, quality=level)
    return gzip.compress(body, compresslevel=level, mtime=0)


def chosen_encoding(accept_encoding: str) -> str | None:
    """The best of ours the client accepts (RFC 9110 §12.5.3: q=0 refuses; * stands for the
    rest); None for identity."""
    weights: dict[str, float] = {}
    for part in accept_encoding.split(","):
        name, _, params = part.strip().partition(";")
        name = name.strip().lower()
        if not name:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        weights[name] = q
    best, best_q = None, 0.0
    for encoding in ENCODINGS:
        q = weights.get(encoding, weights.get("*", 0.0))
        if encoding == "gzip" and "x-gzip" in weights:
            q = max(q, weights["x-gzip"])
        if q > best_q:
            best, best_q = encoding, q
    return best


class CompressedCache:
    """Compressed bodies of versioned files, least recently used out past `max_bytes`."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.entries: OrderedDict[tuple[str, str, str], bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[str, str, str]) -> bytes | None:
        with self.lock:
            found = self.entries.get(key)
            if found is not None:
                self.entries.move_to_end(key)
            return found

    def put(self, key: tuple[str, str, str], body: bytes) -> None:
        if len(body) > self.max_bytes:
            return
        with self.lock:
            if key in self.entries:
                return
            self.entries[key] = body
            self.bytes += len(body)
            while self.bytes > self.max_bytes:
                _, dropped = self.entries.popitem(last=False)
                self.bytes -= len(dropped)


class ResponseCompression:
    def __init__(
        self,
        app: Callable,
        *,
        min_bytes: int = 1024,
        max_bytes: int = 32 * 1024 * 1024,
        cache_bytes: int = 32 * 1024 * 1024,
    ) -> None:
        self.app = app
        self.min_bytes = min_bytes
        self.max_bytes = max_bytes  # larger answers go out as they are (not held in memory)
        self.cache = CompressedCache(cache_bytes)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        encoding = chosen_encoding(environ.get("HTTP_ACCEPT_ENCODING", ""))
        captured: dict = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info=None):
            captured.update(status=status, headers=headers, exc_info=exc_info)
            return lambda data: captured.setdefault("written", []).append(data)

        body_iter = self.app(environ, capture)
        status, headers = captured["status"], captured["headers"]
        named = {name.lower(): value for name, value in headers}
        media_type = named.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in COMPRESSIBLE:
            return self._pass(body_iter, captured, start_response)
        headers = _add_vary(headers)
        length = named.get("content-length")
        if (
            encoding is None
            or environ.get("REQUEST_METHOD") == "HEAD"
            or not status.startswith("200")
            or "content-encoding" in named
            or "no-transform" in named.get("cache-control", "").lower()
            or length is None
            or not length.isdigit()
            or not self.min_bytes <= int(length) <= self.max_bytes
        ):
            captured["headers"] = headers
            return self._pass(body_iter, captured, start_response)
        try:
            body = b"".join([*captured.get("written", []), *body_iter])
        finally:
            close = getattr(body_iter, "close", None)
            if close is not None:
                close()
        etag = named.get("etag", "")
        if etag.startswith('"'):  # a strong ETag names these very bytes: compress once
            key = (environ.get("PATH_INFO", ""), etag, encoding)
            compressed = self.cache.get(key)
            if compressed is None:
                compressed = _compress(body, encoding, CACHED_LEVEL[encoding])
                self.cache.put(key, compressed)
        else:
            compressed = _compress(body, encoding, DYNAMIC_LEVEL[encoding])
        if len(compressed) >= len(body):  # nothing gained: the identity, as it was
            start_response(status, headers, captured["exc_info"])
            return [body]
        out = [(n, v) for n, v in headers if n.lower() not in ("content-length", "etag")]
        out += [("Content-Encoding", encoding), ("Content-Length", str(len(compressed)))]
        if etag:
            out.append(("ETag", etag if etag.startswith("W/") else "W/" + etag))
        start_response(status, out, captured["exc_info"])
        return [compressed]

    @staticmethod
    def _pass(body_iter: Iterable[bytes], captured: dict, start_response: Callable):
        write = start_response(captured["status"], captured["headers"], captured["exc_info"])
        for data in captured.get("written", []):
            write(data)
        return body_iter


def _add_vary(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Say the answer depends on Accept-Encoding, in the Vary line there is (or a new one)."""
    names = {p.strip().lower() for n, v in headers if n.lower() == "vary" for p in v.split(",")}
    if "accept-encoding" in names or "*" in names:
        return headers
    if not names:
        return [*headers, ("Vary", "Accept-Encoding")]
    out, added = [], False
    for name, value in headers:
        if name.lower() == "vary" and not added:
            value, added = f"{value}, Accept-Encoding", True
        out.append((name, value))
    return out
