"""The flask-smorest Api, with strict JSON parsing and problem documents for every error."""

from __future__ import annotations

from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint as SmorestBlueprint
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request

from schemas.common import Problem, StrictJSONError, loads_strict
from server.core.problems import from_http_exception

API_PREFIX = "/api/v1"


class StrictParser(FlaskParser):
    """Refuses NaN and Infinity, which Python's json module would otherwise let through."""

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
