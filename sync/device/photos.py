"""Evidence photos for simulated handhelds, without an imaging library on the device side: a
tiny real JPEG (a snare in the grass, 96×64) padded with comment segments to the size a phone
camera's file would have. Every photo is a valid JPEG that decoders (and the server's thumbnailer)
read, and its random padding makes each one unique, as real photos are."""

from __future__ import annotations

import base64
import random

_TEMPLATE = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4"
    "UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2Nj"
    "Y2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCABAAGADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcI"
    "CQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRol"
    "JicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ip"
    "qrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAA"
    "AAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLR"
    "ChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaX"
    "mJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEA"
    "PwCjRRRXOSFFFFABRRRQAUUUUAFFFFABRRRQAUUUUAFT2kH2m5SHdt3Z5xntmoKu6R/yEofx/kaFuBO2l26sVbUIgQcE"
    "EDj9aT+zbb/oIxfp/jVO8/4/Z/8Aro386gp3QzT/ALNtv+gjF+n+NH9m23/QRi/T/Gsyii6AtX9p9jmEe/fld2cY7n/C"
    "qtaevf8AH6n/AFzH8zWZSe4gooooAKKKKACrukf8hKH8f5GqVWLG4S2u0lfJVc5C9ehFC3GkxLz/AI/Z/wDro386grUe"
    "60qR2draYsxyTnv+dN+0aR/z6zfn/wDZU7D5WZtFXPtVl/0D/wDyM1RPcRFiUs41XsGZif5ikHKy5r3/AB+p/wBcx/M1"
    "mVNd3Ut5KJJAqkLt+UVDg+tDeoW8woox70YpBZdwwfWjFFFAczDAowKKKBczDFFFFMQUUUUAFFFFABRRRQB//9k="
)
_SOI = b"\xff\xd8"
_MAX_SEGMENT = 65_533  # a JPEG segment's payload: its 2-byte length counts itself


def photo(size_bytes: int, rng: random.Random) -> bytes:
    """A unique, decodable JPEG of about `size_bytes` (never smaller than the template)."""
    padding = bytearray()
    remaining = max(0, size_bytes - len(_TEMPLATE))
    while remaining > 4:
        payload = min(_MAX_SEGMENT, remaining - 4)
        padding += b"\xff\xfe" + (payload + 2).to_bytes(2, "big") + rng.randbytes(payload)
        remaining -= payload + 4
    assert _TEMPLATE.startswith(_SOI)
    return _SOI + bytes(padding) + _TEMPLATE[2:]
