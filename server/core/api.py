"""The flask-smorest Api, with strict JSON parsing and problem documents for every error."""

from __future__ import annotations

import http
import json
from typing import Any

from flask import current_app
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest.utils import prepare_response
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request

from schemas.common import Problem
from schemas.json_body import StrictJSONError, first_flaw, loads_strict
from server.core.errors import Invalid
from server.core.problems import from_http_exception

API_PREFIX = "/api/v1"
PROBLEM = "application/problem+json"
# Exports: what a `format` query parameter turns an answer into, as the OpenAPI document says.
EXPORT_MEDIA = {
    "csv": ("text/csv", {"type": "string", "description": "the same rows as CSV"}),
    "geojson": (
        "application/geo+json",
        {"type": "object", "description": "the same rows as a GeoJSON FeatureCollection"},
    ),
}


class StrictParser(FlaskParser):
    """Every JSON body is read by schemas.json_body: no JSON, or nested too deep, is a 400; a
    lone surrogate or a number no double holds is a 422 pointing at it.

    A schema whose list items are judged one by one (the push: one bad record never sinks the
    batch) names that field in `items_judged_alone`; values inside it are left to its service.
    """

    def load_json(self, req, schema):
        document = self._raw_load_json(req)
        judged_here = document
        if (alone := getattr(schema, "items_judged_alone", None)) and isinstance(document, dict):
            judged_here = {key: value for key, value in document.items() if key != alone}
        if document is not core.missing and (flaw := first_flaw(judged_here)):
            raise Invalid(
                f"{flaw.pointer} {flaw.detail}",
                errors={flaw.pointer: [flaw.detail]},
            )
        return document

    def _raw_load_json(self, req):
        data = req.get_data(cache=True)
        if not is_json_request(req):
            if data:
                abort(415, messages={"json": ["send the body as application/json"]})
            return core.missing
        try:
            return loads_strict(data)
        except (StrictJSONError, ValueError, UnicodeDecodeError) as error:
            abort(400, messages={"json": [f"Invalid JSON body: {error}"]})


class Blueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = StrictParser()


class Api(SmorestApi):
    ERROR_SCHEMA = Problem  # the OpenAPI document shows errors as the problem documents they are

    def handle_http_exception(self, error):
        return from_http_exception(error)

    def _register_responses(self) -> None:
        """flask-smorest's error responses, as what they are: application/problem+json."""
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):  # as flask-smorest
                response["schema"] = self.ERROR_SCHEMA
            content_type = PROBLEM if status >= 400 else self.DEFAULT_RESPONSE_CONTENT_TYPE
            prepare_response(response, self.spec, content_type)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "An error, as an RFC 9457 problem", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    def _openapi_json(self):
        document = document_exports(self.spec.to_dict())
        return current_app.response_class(
            json.dumps(document, indent=2, sort_keys=False), mimetype="application/json"
        )


def document_exports(document: dict) -> dict:
    """Every operation with a `format` query parameter answers 200 in each format it offers:
    JSON as its schema says, and the exports (CSV, GeoJSON) with their own media types."""
    for item in document.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            formats: list[str] = next(
                (
                    p.get("schema", {}).get("enum", [])
                    for p in operation.get("parameters", [])
                    if p.get("in") == "query" and p.get("name") == "format"
                ),
                [],
            )
            content = operation.get("responses", {}).get("200", {}).get("content")
            if content is None:
                continue
            for name in formats:
                if name in EXPORT_MEDIA:
                    media, schema = EXPORT_MEDIA[name]
                    content.setdefault(media, {"schema": schema})
    return document
