"""What evidence photos are checked for before they are kept, and their dashboard thumbnails.

A photo is refused when its header promises more pixels than any field camera takes: decoding
such a file (a "decompression bomb", a few KB that inflate to gigabytes) would take the server
down. The header alone is read for that; nothing is decoded until the size is known to be sane.
Thumbnails are made from verified files only, and a photo Pillow cannot decode (a truncated
JPEG from a crashed camera app) is still kept as evidence, just without a thumbnail.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageOps

from server.core.errors import DomainError

log = logging.getLogger(__name__)

THUMBNAIL_PX = 480
# Pillow's own guard refuses to even open a file past twice its fixed limit, which would hide
# the size from us; this module checks every header against the configured limit itself,
# before any decoding, so Pillow's is switched off (this module is Pillow's only user).
Image.MAX_IMAGE_PIXELS = None
DECODABLE = {"image/jpeg", "image/png", "image/webp"}
# A JPEG decodes for its thumbnail at 1/8 of its size (draft mode); a PNG or WebP only whole, at
# up to four bytes a pixel. Past this many pixels such a photo is kept without a thumbnail,
# instead of holding hundreds of megabytes on the request thread.
MAX_WHOLE_DECODE_PIXELS = 24_000_000


class TooManyPixels(DomainError):
    status = 422
    code = "image-too-many-pixels"
    title = "The image would decode to more pixels than allowed"


def _open(path: Path) -> Image.Image | None:
    """The image with only its header read, or None if Pillow does not know the bytes."""
    try:
        return Image.open(path)
    except (OSError, ValueError, SyntaxError):
        return None


def check_pixels(path: Path, media_type: str, max_pixels: int) -> None:
    """Refuse an image whose header declares more than `max_pixels` (before any decoding)."""
    if media_type not in DECODABLE:
        return
    image = _open(path)
    if image is None:
        return
    with image:
        width, height = image.size
    if width * height > max_pixels:
        raise TooManyPixels(
            f"the image says it is {width}×{height} pixels ({width * height:,}); "
            f"this server decodes at most {max_pixels:,}",
            extra={"width": width, "height": height, "max_pixels": max_pixels},
        )


def make_thumbnail(source: Path, target: Path, media_type: str, max_pixels: int) -> bool:
    """A JPEG at most THUMBNAIL_PX on its longer side, upright as the camera held it.
    Answers whether one was made."""
    if media_type not in DECODABLE:
        return False
    image = _open(source)
    if image is None:
        return False
    try:
        with image:
            pixels = image.size[0] * image.size[1]
            if pixels > max_pixels:  # checked again: never decode a bomb
                return False
            if image.format != "JPEG" and pixels > MAX_WHOLE_DECODE_PIXELS:
                log.info(
                    "no thumbnail of a %s of %d pixels: too large to decode", image.format, pixels
                )
                return False
            image.draft("RGB", (THUMBNAIL_PX * 2, THUMBNAIL_PX * 2))  # JPEG: decode at 1/2..1/8
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f"{target.name}.{uuid.uuid4().hex}.part")
            upright.convert("RGB").save(partial, "JPEG", quality=80, optimize=True)
            partial.replace(target)
        return True
    except (OSError, ValueError, SyntaxError) as error:
        log.warning("no thumbnail for %s: %s", source.name, error)
        return False


EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATE_TIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 0x9003, 0x9011


@dataclass(frozen=True)
class CaptureFacts:
    """What the camera wrote into a photo: when (its own clock; with the zone offset only if it
    recorded one) and where (GPS), each None when absent or unreadable."""

    taken_at: datetime | None
    zone_known: bool
    lat: float | None
    lon: float | None


def _degrees(value, ref) -> float | None:
    try:
        d, m, s = (float(v) for v in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    degrees = d + m / 60 + s / 3600
    return -degrees if str(ref).upper() in ("S", "W") else degrees


def capture_facts(path: Path, media_type: str, max_pixels: int) -> CaptureFacts:
    """The photo's EXIF capture time and GPS position, from its header (nothing is decoded)."""
    none = CaptureFacts(None, False, None, None)
    if media_type not in DECODABLE:
        return none
    image = _open(path)
    if image is None:
        return none
    with image:
        if image.size[0] * image.size[1] > max_pixels:
            return none
        exif = image.getexif()
        details, gps = exif.get_ifd(EXIF_IFD), exif.get_ifd(GPS_IFD)
    taken_at, zone_known = None, False
    raw = str(details.get(DATE_TIME_ORIGINAL) or "").strip("\x00 ")
    try:
        # Naive on purpose: EXIF's time is the camera's clock, in no known zone unless the
        # camera also wrote OffsetTimeOriginal (then made aware just below).
        taken_at = datetime.strptime(raw, "%Y:%m:%d %H:%M:%S") if raw else None  # noqa: DTZ007
    except ValueError:
        taken_at = None
    offset = str(details.get(OFFSET_TIME_ORIGINAL) or "").strip("\x00 ")
    if taken_at is not None and offset:
        try:
            taken_at = datetime.fromisoformat(f"{taken_at:%Y-%m-%dT%H:%M:%S}{offset}")
            zone_known = True
        except ValueError:
            pass
    lat = _degrees(gps.get(2), gps.get(1)) if gps.get(2) else None
    lon = _degrees(gps.get(4), gps.get(3)) if gps.get(4) else None
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        lat = lon = None
    return CaptureFacts(taken_at, zone_known, lat, lon)
