"""The SOS as one short text message, for when a handheld has no data connection.

It travels as an SMS (160 GSM-7 characters) or a satellite messenger's short message to a
gateway that posts it to the server (POST /api/v1/sos/text). It is authenticated with a key
derived from the device token, so nobody without the device can forge one, and it carries the
device's SOS counter, which the server accepts once, so a replayed message raises nothing.

    RS1 <device> <counter> <lat>,<lon> <time> <mac> [text]

- `device`: the device's UUID, 16 bytes in base64url (22 characters);
- `counter`: the device's SOS number, base 36, starting at 1, never reused;
- `lat,lon`: WGS 84 degrees with exactly 5 decimals (about a metre);
- `time`: when it was sent, Unix seconds in base 36;
- `mac`: HMAC-SHA256, truncated to 96 bits, base64url (16 characters), over the message
  without it (the fields above, then " " and the text if there is one);
- `text`: optional, printable ASCII, whatever still fits in 160 characters.

The key: HMAC-SHA256(key=SHA-256(device token), message="rangersync-sos-v1"). The server holds
only the token's SHA-256 and derives the same key from it. One SOS sent both ways (HTTP and
text) has the same counter and is one SOS on the server: its id is `sos_id(device, counter)`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

PREFIX = "RS1"
MAX_LENGTH = 160
MAC_BYTES = 12
KEY_LABEL = b"rangersync-sos-v1"
SOS_NAMESPACE = uuid.UUID("5d3c2b1a-0e9f-4c8d-9b7a-6f5e4d3c2b1a")
_TEXT_CHARS = re.compile(r"^[ -~]*$")  # printable ASCII: survives GSM-7 and satellite links
_FORMAT = re.compile(
    r"^RS1 (?P<device>[A-Za-z0-9_-]{22}) (?P<counter>[0-9a-z]{1,8}) "
    r"(?P<lat>-?[0-9]{1,2}\.[0-9]{5}),(?P<lon>-?[0-9]{1,3}\.[0-9]{5}) "
    r"(?P<time>[0-9a-z]{1,8}) (?P<mac>[A-Za-z0-9_-]{16})(?: (?P<text>[ -~]+))?$"
)


class SosFormatError(ValueError):
    """The message is not an SOS in this format (or does not fit)."""


@dataclass(frozen=True)
class Sos:
    device_id: uuid.UUID
    counter: int
    lat: float
    lon: float
    sent_at: datetime
    text: str | None
    mac: bytes
    signed: str  # the exact characters the MAC covers

    @property
    def id(self) -> uuid.UUID:
        return sos_id(self.device_id, self.counter)


def sos_id(device_id: uuid.UUID | str, counter: int) -> uuid.UUID:
    return uuid.uuid5(SOS_NAMESPACE, f"{device_id}:{counter}")


def key_from_token_hash(token_sha256: bytes) -> bytes:
    return hmac.new(token_sha256, KEY_LABEL, hashlib.sha256).digest()


def key_from_token(token: str) -> bytes:
    return key_from_token_hash(hashlib.sha256(token.encode()).digest())


def _b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def _mac(key: bytes, signed: str) -> bytes:
    return hmac.new(key, signed.encode("ascii"), hashlib.sha256).digest()[:MAC_BYTES]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def room_for_text(
    device_id: uuid.UUID | str, counter: int, lat: float, lon: float, sent_at: datetime
) -> int:
    """How many characters of text still fit (after its separating space)."""
    bare = encode(b"\0" * 32, device_id, counter, lat, lon, sent_at)
    return max(0, MAX_LENGTH - len(bare) - 1)


def encode(
    key: bytes,
    device_id: uuid.UUID | str,
    counter: int,
    lat: float,
    lon: float,
    sent_at: datetime,
    text: str | None = None,
) -> str:
    """The message; SosFormatError if the text has characters a text link may mangle or the
    whole does not fit in 160 characters (cut the text with `room_for_text`: never silently)."""
    if not 1 <= counter < 36**8:
        raise SosFormatError("the counter is 1 to 36^8 - 1")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise SosFormatError("the position is outside WGS 84 lon/lat")
    if sent_at.tzinfo is None:
        raise SosFormatError("the time needs a time zone")
    if text is not None and (text != text.strip() or not text or not _TEXT_CHARS.match(text)):
        # gateways trim messages: spaces at either end would break the signature on the way
        raise SosFormatError("the text must be printable ASCII, without spaces at either end")
    device = _b64(uuid.UUID(str(device_id)).bytes)
    seconds = int(sent_at.timestamp())
    head = f"{PREFIX} {device} {_b36(counter)} {lat:.5f},{lon:.5f} {_b36(seconds)}"
    tail = f" {text}" if text else ""
    message = f"{head} {_b64(_mac(key, head + tail))}{tail}"
    if len(message) > MAX_LENGTH:
        raise SosFormatError(f"{len(message)} characters do not fit in {MAX_LENGTH}")
    return message


def parse(message: str) -> Sos:
    """The fields of a message, not yet verified (the server looks the device's key up by
    `device_id`, then calls `verify`)."""
    message = message.strip()
    if len(message) > MAX_LENGTH:
        raise SosFormatError(f"longer than {MAX_LENGTH} characters")
    match = _FORMAT.match(message)
    if match is None:
        raise SosFormatError("not an RS1 SOS message")
    lat, lon = float(match["lat"]), float(match["lon"])
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise SosFormatError("the position is outside WGS 84 lon/lat")
    counter = int(match["counter"], 36)
    if counter < 1:
        raise SosFormatError("the counter starts at 1")
    signed = f"{PREFIX} {match['device']} {match['counter']} {match['lat']},{match['lon']} "
    signed += match["time"] + (f" {match['text']}" if match["text"] else "")
    return Sos(
        device_id=uuid.UUID(bytes=_unb64(match["device"])),
        counter=counter,
        lat=lat,
        lon=lon,
        sent_at=datetime.fromtimestamp(int(match["time"], 36), UTC),
        text=match["text"],
        mac=_unb64(match["mac"]),
        signed=signed,
    )


def verify(sos: Sos, key: bytes) -> bool:
    return hmac.compare_digest(sos.mac, _mac(key, sos.signed))
