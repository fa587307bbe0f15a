"""The OpenAPI 3 definition of the partner API (/ogc/api), as OGC API – Features asks."""

from __future__ import annotations

from schemas.ogc import DEFAULT_LIMIT, MAX_LIMIT
from server.ogc.crs import SUPPORTED


def _param(name: str, description: str, schema: dict, where: str = "query") -> dict:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "schema": schema,
        "description": description,
    }


_COLLECTION = _param("collectionId", "<area slug>.<kind>", {"type": "string"}, "path")
_CRS = _param("crs", "output CRS", {"type": "string", "enum": list(SUPPORTED)})
_KEY = _param("key", "a partner key (or send it as a bearer token)", {"type": "string"})
_JSON = {
    "200": {"description": "OK"},
    "304": {"description": "not modified (If-None-Match)"},
    "400": {"description": "a parameter is not valid (problem+json)"},
    "401": {"description": "no or a bad key"},
    "404": {"description": "not yours or none"},
    "429": {"description": "over the key's rate limit (Retry-After)"},
}


_EXPORT_FORMATS = {
    "gpkg": "application/geopackage+sqlite3",
    "csv": "text/csv",
    "geojson": "application/geo+json",
    "gpx": "application/gpx+xml",
    "kml": "application/vnd.google-earth.kml+xml",
    "dwca": "application/zip",
}
_AREA = _param("area", "the area's slug", {"type": "string"}, "path")
_JOB_ID = _param("jobId", "the export job's id", {"type": "string", "format": "uuid"}, "path")
_JOB = {
    "type": "object",
    "properties": {
        name: {"type": kind}
        for name, kind in (
            ("id", "string"),
            ("area", "string"),
            ("format", "string"),
            ("state", "string"),
            ("progress_percent", "number"),
            ("rows_done", "integer"),
            ("rows_total", "integer"),
            ("size_bytes", "integer"),
            ("expires_at", "string"),
            ("url", "string"),
            ("download", "string"),
        )
    },
}


def openapi_document(base: str) -> dict:
    items = [
        _COLLECTION,
        _param(
            "limit",
            "features per page",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        ),
        _param("bbox", "minx,miny,maxx,maxy", {"type": "array", "items": {"type": "number"}}),
        _param("bbox-crs", "CRS of bbox", {"type": "string", "enum": list(SUPPORTED)}),
        _param("datetime", "instant or interval (RFC 3339, '..' open)", {"type": "string"}),
        _param("filter", "CQL2 on the queryables", {"type": "string"}),
        _param(
            "filter-lang",
            "cql2-text or cql2-json",
            {"type": "string", "enum": ["cql2-text", "cql2-json"]},
        ),
        _param("filter-crs", "CRS of the filter's geometries", {"type": "string"}),
        _param("after", "the next page: after this feature key", {"type": "string"}),
        _param("before", "the previous page: before this feature key", {"type": "string"}),
        _CRS,
        _KEY,
    ]
    get = lambda summary, params=(_KEY,): {  # noqa: E731
        "get": {"summary": summary, "parameters": list(params), "responses": _JSON}
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "RangerSync partner data (OGC API – Features)", "version": "1.0"},
        "servers": [{"url": base.rstrip("/")}],
        "components": {"securitySchemes": {"key": {"type": "http", "scheme": "bearer"}}},
        "security": [{"key": []}],
        "paths": {
            "/exports": {
                "post": {
                    "summary": "export an area's data you may see (geoprivacy applied)",
                    "parameters": [
                        _param("area", "the area's slug", {"type": "string"}),
                        _param(
                            "format",
                            "the file's format",
                            {"type": "string", "enum": list(_EXPORT_FORMATS)},
                        ),
                        _KEY,
                    ],
                    "responses": _JSON
                    | {
                        "200": {
                            "description": "a small export: the file",
                            "content": {t: {} for t in _EXPORT_FORMATS.values()},
                        },
                        "202": {
                            "description": "a large export: a job (JSON), its URL in Location",
                            "content": {"application/json": {"schema": _JOB}},
                        },
                    },
                }
            },
            "/exports/{area}/{jobId}": get(
                "an export job: state, progress, download link", (_AREA, _JOB_ID, _KEY)
            ),
            "/exports/{area}/{jobId}/file": get(
                "the finished export (409 before, 410 once expired)", (_AREA, _JOB_ID, _KEY)
            ),
            "/": get("landing page"),
            "/conformance": get("conformance classes"),
            "/collections": get("the collections you may read"),
            "/collections/{collectionId}": get("one collection", (_COLLECTION, _KEY)),
            "/collections/{collectionId}/queryables": get("its queryables", (_COLLECTION, _KEY)),
            "/collections/{collectionId}/items": get("its features, a page", items),
            "/collections/{collectionId}/items/{featureId}": get(
                "one feature",
                (
                    _COLLECTION,
                    _param("featureId", "feature id", {"type": "string"}, "path"),
                    _CRS,
                    _KEY,
                ),
            ),
        },
    }
