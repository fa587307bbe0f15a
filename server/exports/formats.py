"""Writers of an area's export: GeoPackage (one layer per collection), CSV and GeoJSON, GPX
(waypoints and routes), KML, and a Darwin Core Archive of the observations (GBIF, via an IPT).

They get what the partner API would give (geoprivacy already applied) and add nothing back.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
from pyogrio import raw
from shapely.geometry import MultiLineString, MultiPolygon, shape

GPKG_TYPES = {
    "Point": "Point",
    "MultiPoint": "MultiPoint",
    "LineString": "MultiLineString",
    "MultiLineString": "MultiLineString",
    "Polygon": "MultiPolygon",
    "MultiPolygon": "MultiPolygon",
}


@dataclass(frozen=True)
class Layer:
    name: str  # the collection's kind: boundary, zones, observations, layer-road…
    title: str
    features: list[dict]


@dataclass(frozen=True)
class AreaData:
    slug: str
    name: str
    bbox: list[float]
    layers: list[Layer]
    # Darwin Core taxon terms per species name as reports write it (lowered and trimmed), for
    # the names the taxon list resolves to exactly one taxon (server.species.resolve_names).
    taxa: dict[str, dict[str, str]] = field(default_factory=dict)

    def layer(self, name: str) -> Layer | None:
        return next((layer for layer in self.layers if layer.name == name), None)


def _flat(value):
    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else value


def _columns(features: list[dict]) -> list[str]:
    names: dict[str, None] = {}
    for f in features:
        names.update(dict.fromkeys(f["properties"]))
    return list(names)


def write_gpkg(data: AreaData, output: Path) -> dict:
    output.unlink(missing_ok=True)
    written = {}
    for layer in data.layers:
        features = [f for f in layer.features if f["geometry"]]
        if not features:
            continue
        kinds = {f["geometry"]["type"] for f in features}
        geometry_type = GPKG_TYPES[kinds.pop()] if len(kinds) == 1 else "Unknown"
        columns = _columns(features)
        fields = ["fid_text", *columns]
        values = [np.array([str(f["id"]) for f in features], dtype=object)] + [
            np.array([_flat(f["properties"].get(c)) for f in features], dtype=object)
            for c in columns
        ]
        geometry = np.array(
            [_promote(shape(f["geometry"]), geometry_type).wkb for f in features], dtype=object
        )
        raw.write(
            str(output),
            geometry,
            [
                v.astype(str) if all(isinstance(x, str | type(None)) for x in v) else v
                for v in values
            ],
            fields,
            layer=layer.name.replace("-", "_"),
            driver="GPKG",
            geometry_type=geometry_type,
            crs="EPSG:4326",
            append=output.exists(),
        )
        written[layer.name] = len(features)
    return written


def _promote(geom, geometry_type: str):
    if geometry_type == "MultiPolygon" and geom.geom_type == "Polygon":
        return MultiPolygon([geom])
    if geometry_type == "MultiLineString" and geom.geom_type == "LineString":
        return MultiLineString([geom])
    return geom


def write_geojson(data: AreaData, output: Path) -> dict:
    features = [
        f | {"properties": {"collection": layer.name, **f["properties"]}}
        for layer in data.layers
        for f in layer.features
    ]
    output.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return {layer.name: len(layer.features) for layer in data.layers}


def write_csv(data: AreaData, output: Path) -> dict:
    """The observations, one row each, with longitude and latitude columns."""
    layer = data.layer("observations")
    features = layer.features if layer else []
    columns = _columns(features)
    with output.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "longitude", "latitude", *columns])
        for f in features:
            lon, lat = f["geometry"]["coordinates"][:2]
            writer.writerow([f["id"], lon, lat, *(_flat(f["properties"].get(c)) for c in columns)])
    return {"observations": len(features)}


GPX_NS = "http://www.topografix.com/GPX/1/1"


def write_gpx(data: AreaData, output: Path) -> dict:
    """Observations as waypoints; lines of the map layers (roads, rivers…) as routes."""
    ET.register_namespace("", GPX_NS)
    gpx = ET.Element(f"{{{GPX_NS}}}gpx", version="1.1", creator="RangerSync")
    metadata = ET.SubElement(gpx, f"{{{GPX_NS}}}metadata")
    ET.SubElement(metadata, f"{{{GPX_NS}}}name").text = data.name
    waypoints = routes = 0
    for f in (data.layer("observations") or Layer("", "", [])).features:
        lon, lat = f["geometry"]["coordinates"][:2]
        wpt = ET.SubElement(gpx, f"{{{GPX_NS}}}wpt", lat=f"{lat:.7f}", lon=f"{lon:.7f}")
        p = f["properties"]
        if p.get("observed_at") or p.get("observed_on"):
            when = p.get("observed_at") or f"{p['observed_on']}T00:00:00Z"
            ET.SubElement(wpt, f"{{{GPX_NS}}}time").text = when.replace("+00:00", "Z")
        ET.SubElement(wpt, f"{{{GPX_NS}}}name").text = p.get("species") or p["category_label"]
        ET.SubElement(wpt, f"{{{GPX_NS}}}type").text = p["category"]
        waypoints += 1
    for layer in data.layers:
        if not layer.name.startswith("layer-"):
            continue
        for f in layer.features:
            geom = f["geometry"]
            lines = {"LineString": [geom["coordinates"]], "MultiLineString": geom["coordinates"]}
            for line in lines.get(geom["type"], []):
                rte = ET.SubElement(gpx, f"{{{GPX_NS}}}rte")
                ET.SubElement(rte, f"{{{GPX_NS}}}name").text = f["properties"].get("name") or ""
                ET.SubElement(rte, f"{{{GPX_NS}}}type").text = layer.name.removeprefix("layer-")
                for lon, lat, *_ in line:
                    ET.SubElement(rte, f"{{{GPX_NS}}}rtept", lat=f"{lat:.7f}", lon=f"{lon:.7f}")
                routes += 1
    ET.ElementTree(gpx).write(output, encoding="utf-8", xml_declaration=True)
    return {"waypoints": waypoints, "routes": routes}


KML_NS = "http://www.opengis.net/kml/2.2"


def _kml_coords(ring) -> str:
    return " ".join(f"{c[0]:.7f},{c[1]:.7f}" for c in ring)


def _kml_geometry(parent, geom: dict) -> None:
    kind, coords = geom["type"], geom.get("coordinates")
    k = f"{{{KML_NS}}}"
    if kind == "Point":
        ET.SubElement(ET.SubElement(parent, k + "Point"), k + "coordinates").text = _kml_coords(
            [coords]
        )
    elif kind == "LineString":
        line = ET.SubElement(parent, k + "LineString")
        ET.SubElement(line, k + "coordinates").text = _kml_coords(coords)
    elif kind == "Polygon":
        polygon = ET.SubElement(parent, k + "Polygon")
        for i, ring in enumerate(coords):
            boundary = ET.SubElement(
                polygon, k + ("outerBoundaryIs" if i == 0 else "innerBoundaryIs")
            )
            linear = ET.SubElement(boundary, k + "LinearRing")
            ET.SubElement(linear, k + "coordinates").text = _kml_coords(ring)
    else:  # Multi*: one MultiGeometry of the parts
        multi = ET.SubElement(parent, k + "MultiGeometry")
        for part in coords:
            _kml_geometry(multi, {"type": kind.removeprefix("Multi"), "coordinates": part})


def write_kml(data: AreaData, output: Path) -> dict:
    ET.register_namespace("", KML_NS)
    k = f"{{{KML_NS}}}"
    kml = ET.Element(k + "kml")
    document = ET.SubElement(kml, k + "Document")
    ET.SubElement(document, k + "name").text = data.name
    for layer in data.layers:
        folder = ET.SubElement(document, k + "Folder")
        ET.SubElement(folder, k + "name").text = layer.name
        for f in layer.features:
            placemark = ET.SubElement(folder, k + "Placemark", id=str(f["id"]))
            p = f["properties"]
            ET.SubElement(placemark, k + "name").text = str(
                p.get("name") or p.get("species") or p.get("category_label") or f["id"]
            )
            extended = ET.SubElement(placemark, k + "ExtendedData")
            for key, value in p.items():
                if value is not None:
                    item = ET.SubElement(extended, k + "Data", name=key)
                    ET.SubElement(item, k + "value").text = str(_flat(value))
            _kml_geometry(placemark, f["geometry"])
    ET.ElementTree(kml).write(output, encoding="utf-8", xml_declaration=True)
    return {layer.name: len(layer.features) for layer in data.layers}


# --- Darwin Core Archive -------------------------------------------------------------------------

DWC = "http://rs.tdwg.org/dwc/terms/"
DWC_TERMS = (
    "occurrenceID",
    "basisOfRecord",
    "eventDate",
    "scientificName",
    "scientificNameAuthorship",
    "taxonRank",
    "kingdom",
    "phylum",
    "class",
    "order",
    "family",
    "genus",
    "vernacularName",
    "individualCount",
    "decimalLatitude",
    "decimalLongitude",
    "geodeticDatum",
    "coordinateUncertaintyInMeters",
    "samplingProtocol",
)
# Categories whose `species` names a plant (timber); every other one names an animal.
PLANT_CATEGORIES = ("illegal_logging",)


def _taxon_terms(data: AreaData, p: dict) -> dict[str, str]:
    """The occurrence's taxon terms: the taxon list's entry when the report's species resolves
    to one; else the scientific name the ranger wrote, unchecked; else only the kingdom, which
    the category tells for certain (GBIF accepts a kingdom as the scientific name)."""
    found = data.taxa.get(p["species"].strip().lower())
    if found:
        return found
    kingdom = (
        "Plantae"
        if any(p["category"] == c or p["category"].startswith(c + ".") for c in PLANT_CATEGORIES)
        else "Animalia"
    )
    written = (p.get("attributes") or {}).get("scientific_name")
    if written:
        return {"scientificName": written, "kingdom": kingdom}
    return {"scientificName": kingdom, "taxonRank": "kingdom", "kingdom": kingdom}


def _occurrences(data: AreaData) -> list[list[str]]:
    rows = []
    for f in (data.layer("observations") or Layer("", "", [])).features:
        p = f["properties"]
        if not p.get("species"):  # an occurrence names an organism; fires and the like do not
            continue
        lon, lat = f["geometry"]["coordinates"][:2]
        terms = _taxon_terms(data, p) | {
            "occurrenceID": f"urn:rangersync:{data.slug}:{f['id']}",
            "basisOfRecord": "HumanObservation",
            "eventDate": p.get("observed_at") or p["observed_on"],
            "vernacularName": p["species"],
            "individualCount": ""
            if p.get("individual_count") is None
            else str(p["individual_count"]),
            "decimalLatitude": f"{lat:.7f}",
            "decimalLongitude": f"{lon:.7f}",
            "geodeticDatum": "EPSG:4326",
            "coordinateUncertaintyInMeters": ""
            if p.get("coordinate_uncertainty_m") is None
            else str(p["coordinate_uncertainty_m"]),
            "samplingProtocol": "ranger patrol observation (RangerSync)",
        }
        rows.append([terms.get(term, "") for term in DWC_TERMS])
    return rows


def _meta_xml() -> str:
    fields = "\n".join(
        f'    <field index="{i}" term="{DWC}{term}"/>' for i, term in enumerate(DWC_TERMS)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<archive xmlns="http://rs.tdwg.org/dwc/text/" metadata="eml.xml">
  <core encoding="UTF-8" fieldsTerminatedBy="\\t" linesTerminatedBy="\\n" fieldsEnclosedBy=""
        ignoreHeaderLines="1" rowType="http://rs.tdwg.org/dwc/terms/Occurrence">
    <files><location>occurrence.txt</location></files>
    <id index="0"/>
{fields}
  </core>
</archive>
"""


def _eml_xml(data: AreaData, count: int) -> str:
    west, south, east, north = data.bbox
    e = ET.Element(
        "eml:eml",
        {
            "xmlns:eml": "https://eml.ecoinformatics.org/eml-2.2.0",
            "packageId": f"rangersync-{data.slug}",
            "system": "RangerSync",
        },
    )
    dataset = ET.SubElement(e, "dataset")
    ET.SubElement(dataset, "title").text = f"Wildlife observations of {data.name}"
    creator = ET.SubElement(dataset, "creator")
    ET.SubElement(creator, "organizationName").text = data.name
    ET.SubElement(dataset, "pubDate").text = datetime.now(UTC).date().isoformat()
    abstract = ET.SubElement(dataset, "abstract")
    ET.SubElement(abstract, "para").text = (
        f"{count} wildlife observations made by rangers on patrol in {data.name}. Sensitive "
        "records are withheld or their positions generalised to the centre of a grid cell; "
        "coordinateUncertaintyInMeters is that cell's half-diagonal."
    )
    coverage = ET.SubElement(dataset, "coverage")
    geographic = ET.SubElement(coverage, "geographicCoverage")
    ET.SubElement(geographic, "geographicDescription").text = data.name
    bounding = ET.SubElement(geographic, "boundingCoordinates")
    for tag, value in (
        ("westBoundingCoordinate", west),
        ("eastBoundingCoordinate", east),
        ("northBoundingCoordinate", north),
        ("southBoundingCoordinate", south),
    ):
        ET.SubElement(bounding, tag).text = f"{value:.6f}"
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(e, encoding="unicode")


def write_dwca(data: AreaData, output: Path) -> dict:
    rows = _occurrences(data)
    table = io.StringIO()
    table.write("\t".join(DWC_TERMS) + "\n")
    for row in rows:
        table.write("\t".join(v.replace("\t", " ").replace("\n", " ") for v in row) + "\n")
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("occurrence.txt", table.getvalue())
        archive.writestr("meta.xml", _meta_xml())
        archive.writestr("eml.xml", _eml_xml(data, len(rows)))
    return {"occurrences": len(rows)}


# The collections a format writes, where it does not write them all (the others are not read,
# and neither are a manager's extra layers: the DwC-A stays the partner view, for publication).
COLLECTIONS_OF: dict[str, tuple[str, ...]] = {"csv": ("observations",), "dwca": ("observations",)}


def writes_everything(fmt: str) -> bool:
    """Whether a manager's `everything` (reports as recorded, patrol lines) reaches the file."""
    return fmt not in COLLECTIONS_OF


WRITERS = {
    "gpkg": write_gpkg,
    "csv": write_csv,
    "geojson": write_geojson,
    "gpx": write_gpx,
    "kml": write_kml,
    "dwca": write_dwca,
}
