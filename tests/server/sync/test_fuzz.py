"""Whatever a device sends, the push answers with verdicts or a 4xx problem — never a 5xx."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.server.sync import helpers as h

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
KINDS = st.sampled_from(
    ["patrol", "patrol_leg", "track_chunk", "report", "edit", "attachment", "device_status", "x"]
)
FIELDS = [
    "patrol_id",
    "seq",
    "t0",
    "lon0",
    "lat0",
    "dt",
    "ddlon",
    "ddlat",
    "acc",
    "category",
    "geometry",
    "observed_at",
    "attributes",
    "target",
    "target_id",
    "base_version",
    "changes",
    "report_id",
    "sha256",
    "size_bytes",
    "media_type",
    "reported_at",
    "patrol_type",
    "started_at",
    "leg_number",
]
plausible = st.fixed_dictionaries(
    {
        "kind": KINDS,
        "id": st.uuids().map(str),
        "data": st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=8),
    },
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(records=st.lists(st.one_of(plausible, json_values), max_size=5))
def test_push_never_answers_5xx(client, db, records):
    park = h.park(db)
    response = h.push(client, park, records)
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if response.status_code == 200:
        assert len(response.get_json()["results"]) == len(records)


big_ints = st.integers(-(2**63), 2**63)
columns = st.lists(st.one_of(big_ints, st.integers(-1000, 1000)), max_size=30)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seq=big_ints,
    lon0=big_ints,
    lat0=big_ints,
    dt=columns,
    ddlon=columns,
    ddlat=columns,
    acc=st.one_of(st.none(), st.lists(st.one_of(st.none(), big_ints), max_size=31)),
)
def test_any_chunk_columns_get_a_verdict(client, db, seq, lon0, lat0, dt, ddlon, ddlat, acc):
    park = h.park(db)
    p = h.patrol()
    data = {
        "patrol_id": p["id"],
        "seq": seq,
        "t0": h.T0.isoformat(),
        "lon0": lon0,
        "lat0": lat0,
        "dt": dt,
        "ddlon": ddlon,
        "ddlat": ddlat,
        "acc": acc,
    }
    response = h.push(client, park, [p, {"kind": "track_chunk", "id": h.rid(), "data": data}])
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.get_json()["results"][1]["verdict"] in ("stored", "rejected")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), n=st.integers(1, 40))
def test_well_shaped_chunks_with_any_numbers_get_a_verdict(client, db, data, n):
    park = h.park(db)
    p = h.patrol()
    numbers = st.one_of(st.integers(-(2**40), 2**40), st.integers(-500, 500))
    chunk = {
        "patrol_id": p["id"],
        "seq": data.draw(st.integers(0, 2**54)),
        "t0": h.T0.isoformat(),
        "lon0": data.draw(st.integers(-200_000_000, 200_000_000)),
        "lat0": data.draw(st.integers(-100_000_000, 100_000_000)),
        "dt": data.draw(st.lists(st.integers(-10, 10**7), min_size=n - 1, max_size=n - 1)),
        "ddlon": data.draw(st.lists(numbers, min_size=n - 1, max_size=n - 1)),
        "ddlat": data.draw(st.lists(numbers, min_size=n - 1, max_size=n - 1)),
    }
    response = h.push(client, park, [p, {"kind": "track_chunk", "id": h.rid(), "data": chunk}])
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    result = response.get_json()["results"][1]
    assert result["verdict"] in ("stored", "rejected")
    if result["verdict"] == "stored":
        assert result["points"]["new"] == n
