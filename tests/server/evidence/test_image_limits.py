"""A photo whose header promises a huge PNG (a few hundred KB that decode to gigabytes) is kept as
evidence but never decoded whole for its thumbnail; a JPEG is decoded at 1/8 of its size."""

from __future__ import annotations

import struct
import zlib

from PIL import Image

from server.evidence import images


def _png(width: int, height: int) -> bytes:
    """A valid grey PNG of zeros, compressed row by row (no image of that size is ever held)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    packer = zlib.compressobj(9)
    row = bytes(1 + width)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def test_a_png_too_large_to_decode_whole_gets_no_thumbnail(tmp_path):
    source = tmp_path / "bomb.png"
    source.write_bytes(_png(10_900, 11_000))  # 120 megapixels in about 120 KB
    assert source.stat().st_size < 1_000_000
    images.check_pixels(source, "image/png", 120_000_000)  # within the configured limit

    made = images.make_thumbnail(source, tmp_path / "thumb.jpg", "image/png", 120_000_000)

    assert made is False
    assert not (tmp_path / "thumb.jpg").exists()


def test_a_small_png_and_a_large_jpeg_get_their_thumbnails(tmp_path):
    small = tmp_path / "small.png"
    small.write_bytes(_png(640, 480))
    assert images.make_thumbnail(small, tmp_path / "a.jpg", "image/png", 120_000_000)
    large = tmp_path / "large.jpg"
    Image.new("RGB", (6000, 4500), "green").save(large, "JPEG", quality=50)
    assert images.make_thumbnail(large, tmp_path / "b.jpg", "image/jpeg", 120_000_000)
    with Image.open(tmp_path / "b.jpg") as thumb:
        assert max(thumb.size) == images.THUMBNAIL_PX
