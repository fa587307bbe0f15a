"""The partner API's HTTP face: OGC API – Features (parts 1, 2 and 3) under /ogc/.

Partner keys are accepted here and nowhere else, as `Authorization: Bearer rsp_…` or `?key=`
(QGIS and GDAL users paste URLs; links then carry the key so paging keeps working). Every
request made with a key is logged, refused ones too. JSON (GeoJSON for features) by default;
HTML for browsers (`Accept: text/html`) or with `?f=html`. Responses carry an ETag of their
bytes and answer a matching If-None-Match with 304.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from marshmallow import ValidationError

from schemas.ogc import ItemQuery, ItemsQuery
from server.core.errors import Invalid
from server.core.web import bearer_token, current_actor, db
from server.ogc import crs as crs_
from server.ogc import service
from server.ogc.openapi import openapi_document
from server.ogc.service import Access, InvalidParameter, ItemsRequest
from server.partners import keys

blp = Blueprint("ogc", __name__, url_prefix="/ogc")
GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
]
_ITEMS_PARAMS = {"f", "key"}
# Pages of more features than this are streamed (server.ogc.service.stream_items), not built.
STREAM_ABOVE = service.STREAM_CHUNK


# --- who is asking, and the log of partner keys' requests ----------------------------------------


def access() -> Access:
    if "ogc_access" in g:
        return g.ogc_access
    key = request.args.get("key")
    bearer = bearer_token()
    if key is None and bearer and bearer.startswith(keys.KEY_PREFIX):
        key = bearer
    if key is None:
        g.ogc_access = Access(current_actor())
        return g.ogc_access
    row = keys.find_key(db(), key)
    if row is not None:
        g.partner_key_id = row.id  # logged even if refused below
    found = keys.authenticate_key(db(), row, request.remote_addr)
    current_app.extensions["rangersync.partner_limits"].hit(found.key_id, found.rate_limit)
    g.ogc_access = Access(found.actor, found.collections, found.key_id)
    return g.ogc_access


@blp.after_request
def log_partner_request(response: Response) -> Response:
    key_id = g.get("partner_key_id")
    if key_id is None:
        return response
    session = db()
    if response.status_code >= 400:
        session.rollback()  # whatever failed is not committed with the log row
    _log(session, key_id, response.status_code)
    return response


def _log(session, key_id, status: int) -> None:
    query = urlencode([(k, v) for k, v in request.args.items(multi=True) if k != "key"])
    keys.log_request(
        session,
        key_id,
        method=request.method,
        path=request.path,
        query=query,
        status=status,
        remote_addr=request.remote_addr,
        collection=request.view_args.get("collection_id") if request.view_args else None,
        bbox=g.get("ogc_bbox"),
        features=g.get("ogc_features"),
    )
    session.commit()


# --- rendering -----------------------------------------------------------------------------------


def wants_html() -> bool:
    f = request.args.get("f")
    if f is not None:
        if f not in ("json", "html"):
            raise InvalidParameter("f is json or html", errors={"f": ["json or html"]})
        return f == "html"
    best = request.accept_mimetypes.best_match([JSON, GEOJSON, HTML], default=JSON)
    return best == HTML


def link(endpoint: str, rel: str, media_type: str, title: str, **values) -> dict:
    args = dict(values)
    if request.args.get("key"):
        args["key"] = request.args["key"]
    return {
        "href": url_for(endpoint, _external=True, **args),
        "rel": rel,
        "type": media_type,
        "title": title,
    }


def self_links(endpoint: str, json_type: str = JSON, **values) -> list[dict]:
    html = wants_html()
    return [
        link(
            endpoint, "self" if not html else "alternate", json_type, "as JSON", f="json", **values
        ),
        link(endpoint, "self" if html else "alternate", HTML, "as HTML", f="html", **values),
    ]


def respond(body: str, media_type: str, headers: dict | None = None) -> Response:
    data = body.encode()
    etag = hashlib.sha256(data).hexdigest()[:32]
    headers = (headers or {}) | {
        "ETag": f'"{etag}"',
        "Cache-Control": "private, no-cache",
        "Vary": "Accept, Authorization",
    }
    if g.get("partner_key_id") is None:
        db().rollback()  # read-only: end the transaction before the bytes go out
    # (a partner key's request ends its transaction with the log row, in after_request)
    if request.if_none_match.contains(etag):
        return Response(status=304, headers=headers)
    return Response(data, mimetype=media_type, headers=headers)


def document(doc: dict, template: str, media_type: str = JSON, **context) -> Response:
    if wants_html():
        return respond(render_template(f"ogc/{template}", doc=doc, **context), HTML)
    return respond(json.dumps(doc), media_type)


# --- the resources -------------------------------------------------------------------------------


@blp.get("/")
def landing():
    access()
    doc = {
        "title": "RangerSync partner data",
        "description": "Protected areas' boundaries, zones, map layers, wildlife observations "
        "(after geoprivacy), patrol effort and findings per grid cell, as OGC API – Features.",
        "links": [
            *self_links("ogc.landing"),
            link("ogc.openapi", "service-desc", OPENAPI, "The API definition (OpenAPI 3)"),
            link("ogc.conformance", "conformance", JSON, "Conformance classes", f="json"),
            link("ogc.collections", "data", JSON, "Collections", f="json"),
            link("ogc.collections", "data", HTML, "Collections (HTML)", f="html"),
        ],
    }
    return document(doc, "landing.html")


@blp.get("/api")
def openapi():
    """The OpenAPI 3 definition of this API (the collections are the same for every caller)."""
    return respond(json.dumps(openapi_document(url_for("ogc.landing", _external=True))), OPENAPI)


@blp.get("/conformance")
def conformance():
    access()
    return document({"conformsTo": CONFORMANCE}, "conformance.html")


def _collection_doc(c: service.Collection) -> dict:
    doc = {
        "id": c.id,
        "title": c.title,
        "description": c.source.description,
        "itemType": "feature",
        "extent": {"spatial": {"bbox": [c.bbox], "crs": crs_.CRS84}},
        "crs": list(crs_.SUPPORTED),
        "storageCrs": crs_.CRS84,
        "links": [
            link("ogc.collection", "self", JSON, "This collection", collection_id=c.id, f="json"),
            link("ogc.items", "items", GEOJSON, "Features", collection_id=c.id, f="json"),
            link("ogc.items", "items", HTML, "Features (HTML)", collection_id=c.id, f="html"),
            link(
                "ogc.queryables",
                "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                "application/schema+json",
                "Queryables",
                collection_id=c.id,
                f="json",
            ),
        ],
    }
    if c.source.temporal:
        doc["extent"]["temporal"] = {"interval": [[None, None]]}
    return doc


@blp.get("/collections")
def collections():
    found = service.collections(db(), access())
    doc = {
        "links": self_links("ogc.collections"),
        "collections": [_collection_doc(c) for c in found],
    }
    return document(doc, "collections.html")


@blp.get("/collections/<collection_id>")
def collection(collection_id: str):
    c = service.collection(db(), access(), collection_id)
    return document(_collection_doc(c), "collection.html")


@blp.get("/collections/<collection_id>/queryables")
def queryables(collection_id: str):
    c = service.collection(db(), access(), collection_id)
    properties = {
        q.name: {"title": q.name, "type": q.type} | ({"format": q.format} if q.format else {})
        for q in c.source.queryables
    }
    properties["geometry"] = {
        "$ref": f"https://geojson.org/schema/{c.source.geometry.title()}.json".replace(
            "Multipolygon", "MultiPolygon"
        )
    }
    doc = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": url_for("ogc.queryables", collection_id=c.id, _external=True),
        "type": "object",
        "title": c.title,
        "properties": properties,
        "additionalProperties": False,
    }
    return document(doc, "queryables.html", "application/schema+json")


def _parse(schema, args) -> dict:
    try:
        return schema.load(args)
    except ValidationError as error:
        raise InvalidParameter(
            "a query parameter is not valid: see errors",
            errors={k: v if isinstance(v, list) else [str(v)] for k, v in error.messages.items()},
        ) from error


@blp.get("/collections/<collection_id>/items")
def items(collection_id: str):
    args = {k: v for k, v in request.args.items() if k not in _ITEMS_PARAMS}
    q = _parse(ItemsQuery(), args)
    known = set(ItemsQuery().fields) | {"bbox-crs", "filter-lang", "filter-crs"}
    equals = tuple((k, v) for k, v in q.items() if k not in known)
    start, end = q["datetime"] or (None, None)
    filter_ = q["filter"]
    if filter_ is not None and q["filter_lang"] == "cql2-json":
        try:
            filter_ = json.loads(filter_)
        except ValueError as error:
            raise InvalidParameter(
                "filter: not JSON", errors={"filter": ["cql2-json must be JSON"]}
            ) from error
    request_ = ItemsRequest(
        limit=q["limit"],
        bbox=q["bbox"],
        bbox_crs=_crs(q["bbox_crs"], "bbox-crs"),
        start=start,
        end=end,
        crs=_crs(q["crs"], "crs"),
        after=q["after"],
        before=q["before"],
        filter=filter_,
        filter_lang=q["filter_lang"],
        filter_crs=_crs(q["filter_crs"], "filter-crs"),
        equals=equals,
    )
    g.ogc_bbox = q["bbox"]
    headers = {"Content-Crs": f"<{request_.crs.uri}>"}
    if request_.limit > STREAM_ABOVE and request_.before is None and not wants_html():
        return _streamed(collection_id, request_, args, headers)
    page = service.items(db(), access(), collection_id, request_)
    g.ogc_features = len(page.features)
    links = _page_links(collection_id, page, args)
    if wants_html():
        features = [json.loads(f) for f in page.features]
        c = service.collection(db(), access(), collection_id)
        body = render_template("ogc/items.html", c=c, features=features, links=links)
        return respond(body, HTML, headers)
    body = (
        '{"type":"FeatureCollection","features":['
        + ",".join(page.features)
        + f'],"numberReturned":{len(page.features)},"links":{json.dumps(links)}}}'
    )
    return respond(body, GEOJSON, headers)


def _streamed(collection_id: str, q: ItemsRequest, args: dict, headers: dict) -> Response:
    """A page of more than STREAM_ABOVE features, sent as it is read from a server-side cursor:
    the process holds one chunk of rows, not the page. It has no ETag (that would need every
    byte before the first is sent); the partner log row is written when the last byte is."""
    streamed = service.stream_items(db(), access(), collection_id, q)
    # The stream owns the request's session from here: Flask ends the request (and would close
    # the session, and its cursor) before the body is sent.
    session = g.pop("db")
    key_id = g.pop("partner_key_id", None)  # logged at the end of the stream, not after_request

    def body() -> Iterator[str]:
        try:
            yield '{"type":"FeatureCollection","features":['
            for i, feature in enumerate(streamed.features()):
                yield feature if i == 0 else "," + feature
            links = _page_links(collection_id, streamed.page(), args)
            yield f'],"numberReturned":{streamed.count},"links":{json.dumps(links)}}}'
            session.rollback()  # end the read; the log row is a transaction of its own
            if key_id is not None:
                g.ogc_features = streamed.count
                _log(session, key_id, 200)
        finally:
            session.close()

    headers |= {"Cache-Control": "private, no-cache", "Vary": "Accept, Authorization"}
    return Response(stream_with_context(body()), mimetype=GEOJSON, headers=headers)


def _crs(value: str | None, parameter: str) -> crs_.Crs:
    try:
        return crs_.parse(value, parameter)
    except Invalid as error:  # the standard asks for 400 where we would say 422
        raise InvalidParameter(str(error), errors={parameter: ["unsupported CRS"]}) from error


def _page_links(collection_id: str, page: service.Page, args: dict) -> list[dict]:
    kept = {k: v for k, v in args.items() if k not in ("after", "before")}
    links = self_links("ogc.items", GEOJSON, collection_id=collection_id, **args)
    if page.has_next and page.last_key is not None:
        links.append(
            link(
                "ogc.items",
                "next",
                GEOJSON,
                "Next page",
                collection_id=collection_id,
                **kept,
                after=page.last_key,
                f="json",
            )
        )
    if page.has_prev and page.first_key is not None:
        links.append(
            link(
                "ogc.items",
                "prev",
                GEOJSON,
                "Previous page",
                collection_id=collection_id,
                **kept,
                before=page.first_key,
                f="json",
            )
        )
    return links


@blp.get("/collections/<collection_id>/items/<feature_id>")
def item(collection_id: str, feature_id: str):
    q = _parse(ItemQuery(), {k: v for k, v in request.args.items() if k not in _ITEMS_PARAMS})
    crs = _crs(q["crs"], "crs")
    feature = service.item(db(), access(), collection_id, feature_id, crs)
    g.ogc_features = 1
    headers = {"Content-Crs": f"<{crs.uri}>"}
    if wants_html():
        body = render_template(
            "ogc/item.html", collection_id=collection_id, feature=json.loads(feature)
        )
        return respond(body, HTML, headers)
    doc = json.loads(feature)
    doc["links"] = [
        *self_links("ogc.item", GEOJSON, collection_id=collection_id, feature_id=feature_id),
        link(
            "ogc.collection",
            "collection",
            JSON,
            "The collection",
            collection_id=collection_id,
            f="json",
        ),
    ]
    return respond(json.dumps(doc), GEOJSON, headers)
