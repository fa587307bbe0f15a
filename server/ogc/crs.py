"""OGC API – Features part 2: the coordinate reference systems we serve and how to reach them."""

from __future__ import annotations

from dataclasses import dataclass

from server.core.errors import Invalid

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
EPSG_3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"


@dataclass(frozen=True)
class Crs:
    uri: str
    srid: int
    lat_first: bool  # EPSG:4326's axis order is latitude, longitude

    def output(self, geom: str) -> str:
        """SQL: `geom` (EPSG:4326, lon/lat) in this CRS, axes in its order."""
        if self.srid != 4326:
            return f"ST_Transform({geom}, {self.srid})"
        return f"ST_FlipCoordinates({geom})" if self.lat_first else geom

    def digits(self) -> int:
        return 2 if self.srid == 3857 else 7  # about a centimetre either way


SUPPORTED = {
    c.uri: c
    for c in (Crs(CRS84, 4326, False), Crs(EPSG_4326, 4326, True), Crs(EPSG_3857, 3857, False))
}
DEFAULT = SUPPORTED[CRS84]


def parse(uri: str | None, parameter: str) -> Crs:
    if uri is None:
        return DEFAULT
    uri = uri.strip().removeprefix("[").removesuffix("]")
    aliases = {"EPSG:4326": EPSG_4326, "EPSG:3857": EPSG_3857, "OGC:CRS84": CRS84}
    found = SUPPORTED.get(aliases.get(uri.upper(), uri))
    if found is None:
        raise Invalid(
            f"{parameter}: unsupported CRS {uri!r}",
            errors={parameter: [f"one of {', '.join(SUPPORTED)}"]},
        )
    return found
