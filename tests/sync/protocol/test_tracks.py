"""The track-chunk encoding: round trips exactly at microdegree precision, and the documented
example decodes as docs/sync-protocol.md says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sync.protocol.tracks import Fix, decode, encode

T0 = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)

microdegrees_lon = st.integers(-180_000_000, 180_000_000)
microdegrees_lat = st.integers(-90_000_000, 90_000_000)


@given(
    st.lists(
        st.tuples(
            microdegrees_lon,
            microdegrees_lat,
            st.integers(0, 3600),
            st.one_of(st.none(), st.integers(0, 500)),
        ),
        min_size=1,
        max_size=200,
    ),
    st.integers(0, 10**9),
)
def test_round_trip_is_exact(points, first_seq):
    elapsed = np.cumsum([0] + [p[2] for p in points[1:]])
    fixes = [
        Fix(lon / 1e6, lat / 1e6, T0 + timedelta(seconds=int(s)), acc)
        for (lon, lat, _, acc), s in zip(points, elapsed, strict=True)
    ]
    chunk = encode("p", first_seq, fixes)
    columns = decode(
        chunk["seq"],
        T0,
        chunk["lon0"],
        chunk["lat0"],
        chunk["dt"],
        chunk["ddlon"],
        chunk["ddlat"],
        chunk.get("acc"),
    )
    assert columns.lon_e6.tolist() == [p[0] for p in points]
    assert columns.lat_e6.tolist() == [p[1] for p in points]
    assert columns.seconds.tolist() == elapsed.tolist()
    assert columns.seq.tolist() == list(range(first_seq, first_seq + len(points)))
    if any(p[3] is not None for p in points):
        assert [None if np.isnan(a) else int(a) for a in columns.accuracy] == [p[3] for p in points]


def test_the_documented_example():
    columns = decode(0, T0, 37530124, -3362050, [30, 30], [210, -12], [-150, 8])
    assert columns.lon_e6.tolist() == [37530124, 37530334, 37530532]
    assert columns.lat_e6.tolist() == [-3362050, -3362200, -3362342]
    assert columns.seconds.tolist() == [0, 30, 60]
