"""When and where the camera says a photo was taken (EXIF), as the dashboard's photo viewer
shows it: the capture time with its zone when the camera wrote one, the camera's clock alone
otherwise, the GPS position; nothing made up for a photo without them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image

from server.evidence.images import capture_facts


def _photo(path, *, when=None, offset=None, gps=None):
    exif = Image.Exif()
    if when:
        exif.get_ifd(0x8769)[0x9003] = when
    if offset:
        exif.get_ifd(0x8769)[0x9011] = offset
    if gps:
        exif.get_ifd(0x8825).update(gps)
    Image.new("RGB", (64, 48), "#6a8f4e").save(path, "JPEG", exif=exif)
    return path


def test_a_cameras_capture_time_and_position_are_read(tmp_path):
    gps = {1: "S", 2: (3.0, 24.0, 36.0), 3: "E", 4: (37.0, 6.0, 0.0)}
    photo = _photo(tmp_path / "a.jpg", when="2026:11:29 14:03:00", offset="+03:00", gps=gps)
    facts = capture_facts(photo, "image/jpeg", 10_000)
    assert facts.taken_at == datetime(2026, 11, 29, 14, 3, tzinfo=timezone(timedelta(hours=3)))
    assert facts.zone_known
    assert facts.lat == pytest.approx(-3.41) and facts.lon == pytest.approx(37.1)


def test_a_camera_clock_without_zone_stays_naive_and_nothing_is_invented(tmp_path):
    clock_only = capture_facts(
        _photo(tmp_path / "b.jpg", when="2026:11:29 14:03:00"), "image/jpeg", 10_000
    )
    camera_clock = datetime(2026, 11, 29, 14, 3)  # noqa: DTZ001 (the camera named no zone)
    assert clock_only.taken_at == camera_clock and not clock_only.zone_known
    assert clock_only.lat is None and clock_only.lon is None
    bare = capture_facts(_photo(tmp_path / "c.jpg"), "image/jpeg", 10_000)
    assert (bare.taken_at, bare.lat, bare.lon) == (None, None, None)
    garbled = capture_facts(_photo(tmp_path / "d.jpg", when="yesterday"), "image/jpeg", 10_000)
    assert garbled.taken_at is None
    too_big = capture_facts(
        _photo(tmp_path / "e.jpg", when="2026:11:29 14:03:00"), "image/jpeg", 10
    )
    assert too_big.taken_at is None  # a header past the pixel limit is not read further
    (tmp_path / "f.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    assert capture_facts(tmp_path / "f.mp4", "video/mp4", 10_000).taken_at is None
