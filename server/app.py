"""The application factory: configuration, database, API blueprints, error handling, assets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import Flask, abort, send_from_directory
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker
from werkzeug.middleware.proxy_fix import ProxyFix

from server import health
from server.accounts import api as accounts_api
from server.accounts.service import authenticate_user_token
from server.analytics import api as analytics_api
from server.analytics import api_browse as browse_api
from server.areas import api as areas_api
from server.cases import api as cases_api
from server.config import PROJECT_ROOT, Config
from server.core import i18n, logs, pgcluster, problems, security, timing, tokens
from server.core.api import Api
from server.core.arrival import StampArrival
from server.core.attempts import Attempts
from server.core.compression import ResponseCompression
from server.core.db import make_engine, make_session_factory
from server.core.disconnect import DisconnectWatch
from server.core.encoding import RequestDecoding
from server.core.extensions import add_area_detail
from server.core.ratelimit import PostgresStorage
from server.core.timing import ServerTiming
from server.core.web import ATTEMPTS, DISCONNECTS, close_session, register_authenticator
from server.devices import api as devices_api
from server.devices.service import authenticate_device
from server.evidence import api as uploads_api
from server.evidence import files as evidence_files
from server.evidence.storage import FileStore
from server.exports import api as exports_api
from server.maps import api as maps_api
from server.maps.packages import current_manifest
from server.maps.tiles import TileCache
from server.ogc import api as ogc_api
from server.ops import observe, replica
from server.partners import api as partners_api
from server.partners.ratelimit import KeyRateLimiter
from server.reports import api as reports_api
from server.safety import api as safety_api
from server.safety import live as safety_live
from server.safety.priority import PushGate
from server.seizures import api as seizures_api
from server.species import api as species_api
from server.sync import api as sync_api
from server.web import (
    admin_pages,  # noqa: F401 (registers its pages on area_pages.blp)
    area_pages,
    case_pages,  # noqa: F401 (registers its pages on area_pages.blp)
    pages,
    seizure_pages,  # noqa: F401 (registers its pages on area_pages.blp)
)
from server.web import errors as web_errors
from sync.protocol import MAX_COMPRESSION_RATIO, PROTOCOL_VERSION

# Front-end libraries installed from the npm registry at set-up (package.json) and served by us.
VENDOR_PACKAGES = {"swagger-ui": "swagger-ui-dist"}
VENDOR_PACKAGES |= {"maplibre-gl": "maplibre-gl/dist", "uplot": "uplot/dist"}
NODE_MODULES = PROJECT_ROOT / "node_modules"


@dataclass
class RangerSync:
    """What the app holds for its lifetime, kept in app.extensions["rangersync"]."""

    config: Config
    engine: Engine
    session_factory: sessionmaker
    evidence: FileStore


def database_url(config: Config) -> str:
    if config.database_url:
        return config.database_url
    return pgcluster.embedded(config.var_dir, config.pg_port).url()


def create_app(config: Config | None = None, *, engine: Engine | None = None) -> Flask:
    config = config or Config.from_env()
    logs.configure(config.log_level, config.log_format)
    app = Flask(__name__)
    app.json.sort_keys = False  # keep the schemas' field order: id and slug first
    app.config.update(
        SECRET_KEY=config.secret_key,
        MAX_CONTENT_LENGTH=config.max_request_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=(config.public_url or "").startswith("https://"),
        API_TITLE="RangerSync",
        API_VERSION=f"v1 (sync protocol {PROTOCOL_VERSION})",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/static/vendor/swagger-ui/",
        # No validator badge: it would send the spec to a server on the internet.
        OPENAPI_SWAGGER_UI_CONFIG={"validatorUrl": None, "deepLinking": True},
        API_SPEC_OPTIONS={
            "info": {
                "description": "The server that wildlife rangers' handhelds sync to. "
                "Errors are application/problem+json (RFC 9457).",
            },
            "components": {
                "securitySchemes": {
                    "bearer": {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "user or device token",
                    }
                }
            },
            "security": [{"bearer": []}],
        },
    )
    engine = engine or make_engine(
        database_url(config), transaction_pooling=config.database_pool_mode == "transaction"
    )
    app.extensions["rangersync"] = RangerSync(
        config, engine, make_session_factory(engine), FileStore(config.evidence_dir)
    )

    register_authenticator(app, tokens.USER_TOKEN_PREFIX, authenticate_user_token)
    register_authenticator(app, tokens.DEVICE_TOKEN_PREFIX, authenticate_device)
    add_area_detail("map_package", current_manifest)
    api = Api(app)
    for blueprint in (
        accounts_api.blp,
        areas_api.blp,
        devices_api.blp,
        reports_api.blp,
        evidence_files.blp,
        sync_api.blp,
        sync_api.review_blp,
        maps_api.blp,
        safety_api.alerts_blp,
        safety_api.sos_blp,
        analytics_api.blp,
        browse_api.blp,
        species_api.blp,
        seizures_api.blp,
        partners_api.blp,
        cases_api.blp,
        exports_api.blp,
    ):
        api.register_blueprint(blueprint)
    app.register_blueprint(uploads_api.blp)
    app.register_blueprint(maps_api.tiles_blp)
    safety_live.install(app, config.live_streams_max, config.live_streams_per_token)
    app.register_blueprint(ogc_api.blp)
    app.register_blueprint(exports_api.partner_blp)
    app.extensions["rangersync.tiles"] = TileCache(config.tile_cache_bytes)
    cases_api.install(app, config)
    # Rate limits in the database every process shares (server/core/ratelimit.py).
    limits = PostgresStorage(engine)
    app.extensions["rangersync.limits"] = limits
    app.extensions["rangersync.partner_limits"] = KeyRateLimiter(limits)
    app.extensions[ATTEMPTS] = {
        "sign-in": Attempts(
            limits,
            "sign-in",
            {"account": config.sign_in_limit_account, "source": config.sign_in_limit_source},
        ),
        "enrolment": Attempts(limits, "enrolment", {"source": config.enrol_limit_source}),
        "sos-text": Attempts(
            limits,
            "SOS text",
            {"sender": config.sos_text_limit_sender, "source": config.sos_text_limit_source},
        ),
    }
    app.register_blueprint(health.blp)
    app.register_blueprint(pages.blp)
    app.register_blueprint(area_pages.blp)
    problems.register(app)
    observe.install(app)  # request ids, /metrics, the access log (server/ops/)
    replica.install(app, config, app.extensions["rangersync"].session_factory)
    security.register(app)
    i18n.install(app)  # the dashboard's languages and local formats (server/translations/)
    web_errors.install(app)  # problems met by a page's browser as pages (before the headers)
    app.teardown_appcontext(close_session)
    app.extensions[DISCONNECTS] = DisconnectWatch()  # read queries end when their client does

    @app.get("/static/vendor/<library>/<path:filename>")
    def vendor(library: str, filename: str):
        package = VENDOR_PACKAGES.get(library)
        if package is None:
            abort(404)
        return send_from_directory(Path(NODE_MODULES, package), filename, max_age=86400)

    if n := config.trusted_proxies:  # nginx in front: its X-Forwarded-* say TLS, client, host
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    app.wsgi_app = ResponseCompression(app.wsgi_app)  # br/gzip out (server/core/compression.py)
    app.wsgi_app = RequestDecoding(app.wsgi_app, config.max_request_bytes, MAX_COMPRESSION_RATIO)
    if config.server_timing_log is not None:  # inside the gate: its wait is reported apart
        timing.watch(engine)
        app.wsgi_app = ServerTiming(app.wsgi_app, config.server_timing_log)
    if config.push_concurrency:  # bulk sync yields to the SOS (server/safety/priority.py)
        app.wsgi_app = PushGate(app.wsgi_app, config.push_concurrency, config.push_queue)
        app.extensions["rangersync.push_gate"] = app.wsgi_app  # the deriver yields to it
    app.wsgi_app = StampArrival(app.wsgi_app)  # outermost: before the body is read or queued
    return app
