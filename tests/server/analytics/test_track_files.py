"""A patrol's track downloaded as GPX and KML: every fix in time order with its time (UTC), read
back with a standard XML parser; an unknown format is a clear problem, not a file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

from tests.server.safety import helpers as s

GPX = "{http://www.topografix.com/GPX/1/1}"
KML = "{http://www.opengis.net/kml/2.2}"


def test_a_patrols_track_downloads_as_gpx_and_kml(committed_client, committed_db):
    client = committed_client
    park = s.park(committed_db, client, devices=1)
    ranger = park.devices[0]
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    s.walk(client, ranger, 37.1, -3.4, minutes=5, step=0.0004, start=start)
    path = f"/api/v1/patrols/{ranger.patrol_id}/track"

    gpx = client.get(f"{path}.gpx", headers=park.manager)
    assert gpx.status_code == 200 and gpx.mimetype == "application/gpx+xml"
    assert "attachment" in gpx.headers["Content-Disposition"]
    track = ET.fromstring(gpx.data)  # noqa: S314 (the answer of the test's own server)
    points = track.findall(f"{GPX}trk/{GPX}trkseg/{GPX}trkpt")
    assert len(points) == 10
    assert [round(float(p.get("lon")), 4) for p in points] == [
        round(37.1 + 0.0004 * i, 4) for i in range(10)
    ]
    times = [p.find(f"{GPX}time").text for p in points]
    assert times == sorted(times) and times[0] == start.strftime("%Y-%m-%dT%H:%M:%SZ")

    kml = client.get(f"{path}.kml", headers=park.manager)
    assert kml.status_code == 200
    document = ET.fromstring(kml.data)  # noqa: S314 (the answer of the test's own server)
    line = document.find(f"{KML}Document/{KML}Placemark/{KML}LineString/{KML}coordinates")
    assert len(line.text.split()) == 10
    names = [n.text for n in document.iter(f"{KML}name")]
    assert "Start" in names and "End" in names

    wrong = client.get(f"{path}.shp", headers=park.manager)
    assert wrong.status_code == 422
    assert wrong.headers["Content-Type"].startswith("application/problem+json")
    assert client.get(f"{path}.gpx").status_code == 401
