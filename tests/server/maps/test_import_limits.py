"""Import limits are checked before the work: a file's feature count comes from its headers and
a zip's unpacked size from its directory, both refused (422, the limit named) before a feature is
read; so a small zip of a million points costs nothing."""

from __future__ import annotations

import io
import zipfile

import pytest
from pyogrio import raw
from shapely.geometry import Point

from server.core.errors import Invalid
from server.maps import importers
from server.maps.importers import read_source
from tests.server.maps import files


@pytest.fixture
def features_read(monkeypatch):
    """Counts the layers whose features were read (pyogrio.raw.read, GDAL itself underneath)."""
    calls = []
    real = raw.read

    def counting_read(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(importers.pyogrio.raw, "read", counting_read)
    return calls


def _points(n: int) -> list[Point]:
    return [Point(37.0 + i / 10_000, -3.4) for i in range(n)]


def test_a_shapefile_with_too_many_features_is_refused_before_reading_them(
    tmp_path, monkeypatch, features_read
):
    monkeypatch.setattr(importers, "MAX_FEATURES", 50)
    data = files.zipped_shapefile(
        tmp_path,
        "posts",
        _points(200),
        {"name": [f"p{i}" for i in range(200)]},
        "EPSG:4326",
        "Point",
    )

    with pytest.raises(Invalid) as refused:
        read_source(data, "posts.zip")

    assert "200" in refused.value.detail and "50" in refused.value.detail
    assert features_read == []


def test_a_geopackage_counts_the_features_of_all_its_layers(tmp_path, monkeypatch, features_read):
    monkeypatch.setattr(importers, "MAX_FEATURES", 50)
    data = files.geopackage(
        tmp_path,
        {
            "posts": (_points(30), {"name": [f"p{i}" for i in range(30)]}),
            "dams": (_points(30), {"name": [f"d{i}" for i in range(30)]}),
        },
    )

    with pytest.raises(Invalid) as refused:
        read_source(data, "park.gpkg")

    assert "60" in refused.value.detail
    assert features_read == []


def test_a_zip_that_unpacks_too_large_is_refused_from_its_directory(
    tmp_path, monkeypatch, features_read
):
    monkeypatch.setattr(importers, "MAX_UNPACKED_BYTES", 1024 * 1024)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.shp", bytes(8 * 1024 * 1024))  # 8 MB of zeros: a few KB zipped
        archive.writestr("bomb.shx", b"")
        archive.writestr("bomb.dbf", b"")

    with pytest.raises(Invalid) as refused:
        read_source(buffer.getvalue(), "bomb.zip")

    assert "8,388,608" in refused.value.detail and "1,048,576" in refused.value.detail
    assert features_read == []


def test_a_file_within_the_limits_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(importers, "MAX_FEATURES", 50)
    data = files.zipped_shapefile(
        tmp_path, "posts", _points(50), {"name": [f"p{i}" for i in range(50)]}, "EPSG:4326", "Point"
    )
    assert len(read_source(data, "posts.zip").candidates) == 50
