"""HTTP endpoints of seizures for managers: file one, list a park's, read, change, versions."""

from __future__ import annotations

import uuid

from flask import Response
from marshmallow import Schema, fields, validate

from schemas.common import Out
from schemas.seizures import (
    SeizureChange,
    SeizureCreate,
    SeizureOut,
    SeizureQuery,
    SeizureTrendOut,
    SeizureTrendQuery,
)
from server.core.api import API_PREFIX, Blueprint
from server.core.web import commit, current_actor, db
from server.seizures import cites, service, trends

blp = Blueprint("seizures", __name__, url_prefix=API_PREFIX, description="Seizures")


class VersionOut(Out):
    version = fields.Integer()
    data = fields.Dict()
    edit_id = fields.UUID(allow_none=True)
    device_id = fields.UUID(allow_none=True)
    user_id = fields.UUID(allow_none=True)
    changed_at = fields.DateTime()


class ReportQuery(Schema):
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
    format = fields.String(load_default="xlsx", validate=validate.OneOf(sorted(cites.FORMATS)))


@blp.get("/areas/<area>/cites-report")
@blp.arguments(ReportQuery, location="query")
@blp.response(200, content_type="application/octet-stream")
def cites_report(query, area: str):
    """The CITES annual illegal trade report of the area for a year, as XLSX or CSV."""
    report = cites.build(db(), current_actor(), query["year"], area=area)
    write, media_type = cites.FORMATS[query["format"]]
    name = f"cites-illegal-trade-{area}-{query['year']}.{query['format']}"
    return Response(
        write(report),
        mimetype=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Rows-Lacking-Data": str(report.incomplete),
        },
    )


@blp.post("/areas/<area>/seizures")
@blp.arguments(SeizureCreate)
@blp.response(201, SeizureOut)
def create(data, area: str):
    """File a seizure (managers). Give it an `id` of your own so a retry cannot store it twice."""
    seizure_id = data.pop("id")
    seizure = service.create_seizure(db(), current_actor(), area, data, seizure_id)
    return commit(service.describe(db(), seizure))


@blp.get("/areas/<area>/seizures")
@blp.arguments(SeizureQuery, location="query")
@blp.response(200, SeizureOut(many=True))
def list_(query, area: str):
    """The park's seizures, newest first; filter by year, taxon or CITES term."""
    seizures = service.list_seizures(db(), current_actor(), area, **query)
    return [service.describe(db(), s) for s in seizures]


@blp.get("/seizures/<uuid:seizure_id>")
@blp.response(200, SeizureOut)
def get(seizure_id: uuid.UUID):
    """One seizure with its items and version (send the version back when you change it)."""
    return service.describe(db(), service.get_seizure(db(), current_actor(), seizure_id))


@blp.patch("/seizures/<uuid:seizure_id>")
@blp.arguments(SeizureChange)
@blp.response(200, SeizureOut)
def change(change, seizure_id: uuid.UUID):
    """Change fields (e.g. resolve an unidentified taxon); 409 if made on an older version."""
    seizure = service.change_seizure(db(), current_actor(), seizure_id, **change)
    return commit(service.describe(db(), seizure))


@blp.get("/seizures/<uuid:seizure_id>/versions")
@blp.response(200, VersionOut(many=True))
def versions(seizure_id: uuid.UUID):
    """Every version of the seizure, as it was after each change."""
    return service.versions(db(), current_actor(), seizure_id)


@blp.get("/areas/<area>/seizures/trends/<any(taxon, term, route, month):figure>")
@blp.arguments(SeizureTrendQuery, location="query")
@blp.response(200, SeizureTrendOut(many=True))
def area_trend(query, area: str, figure: str):
    """Seizures of the area by taxon, CITES term, route (origin → destination) or month."""
    return trends.trend(db(), current_actor(), figure, area=area, **query)


@blp.get("/areas/<area>/seizures/hotspots")
@blp.arguments(SeizureTrendQuery, location="query")
@blp.response(200)
def hotspots(query, area: str):
    """Seizures counted on a grid of about 1 km cells, as a GeoJSON FeatureCollection."""
    return trends.hotspots(db(), current_actor(), area, **query)


@blp.get("/countries/<country>/seizures/trends/<any(taxon, term, route, month):figure>")
@blp.arguments(SeizureTrendQuery, location="query")
@blp.response(200, SeizureTrendOut(many=True))
def national_trend(query, country: str, figure: str):
    """The same figures for every area reporting for the country (ISO 3166-1 alpha-2)."""
    return trends.trend(db(), current_actor(), figure, country=country.upper(), **query)
