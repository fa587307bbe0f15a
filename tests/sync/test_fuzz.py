"""Whatever a device sends, the push answers with verdicts or a 4xx problem — never a 5xx."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sync import helpers as h

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20),
)  # fmt: skip
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
    {"kind": KINDS, "id": st.uuids().map(str),
     "data": st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=8)},
)  # fmt: skip


@settings(
    max_examples=60,
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
