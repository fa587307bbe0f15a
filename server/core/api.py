"""The flask-smorest Api, with strict JSON parsing and problem documents for every error."""

from __future__ import annotations

from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint as SmorestBlueprint
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request

from schemas.common import Problem
from schemas.json_body import StrictJSONError, first_flaw, loads_strict
from server.core.errors import Invalid
from server.core.problems import from_http_exception

API_PREFIX = "/api/v1"


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
