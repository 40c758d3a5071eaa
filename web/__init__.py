"""The web application: reader search, staff and coordinator screens, the JSON API."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

from federation.alliance import load_alliance
from federation.db import Database
from federation.settings import ensure_secret_key, load_settings


class DatabaseId(IntegerConverter):
    """An ``<int:...>`` URL part that an id column can hold (PostgreSQL integer: < 2**31)."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app: settings (defaults, file, environment, ``config``), then each area."""
    settings = load_settings(overrides=config)
    app = Flask(__name__, instance_path=settings["INSTANCE_PATH"], instance_relative_config=True)
    app.url_map.converters["int"] = DatabaseId  # ids no id column holds are a 404, not a 500
    app.config.update({f"FEDERATION_{k}": v for k, v in settings.items()})
    app.config["SECRET_KEY"] = ensure_secret_key(settings)
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    app.extensions["federation.settings"] = settings
    app.extensions["federation.db"] = Database(settings["DATABASE_URL"])
    app.extensions["federation.alliance"] = load_alliance(settings["ALLIANCE_FILE"])
    logging.getLogger("federation").setLevel(settings["LOG_LEVEL"])

    from web import errors, i18n, security
    from web import ill as ill_web
    from web.views import (
        account,
        accounts_admin,
        admin,
        api,
        feedback,
        home,
        ill,
        ill_api,
        ill_reader,
        iso18626,
        oai,
        reports,
        sru,
        stats,
        stats_costs,
    )
    from web.views import search as search_pages

    i18n.init_app(app)
    security.init_app(app)  # sessions, who is acting, CSRF, headers, declared permissions

    @app.context_processor
    def _alliance_context():
        return {"alliance": app.extensions["federation.alliance"]}

    errors.init_app(app)
    app.register_blueprint(home.bp)
    app.register_blueprint(feedback.bp)
    app.register_blueprint(api.bp, url_prefix="/api/v1")
    app.register_blueprint(admin.bp, url_prefix="/admin")
    app.register_blueprint(sru.bp)  # /sru and /opensearch.xml
    app.register_blueprint(oai.bp)  # /oai: the union catalogue over OAI-PMH
    app.register_blueprint(reports.bp)  # /reports/gaps (and /api/v1/reports/gaps on api.bp)
    search_pages.init_app(app)  # the one search backend, and the reader search pages
    app.register_blueprint(stats.bp, url_prefix="/stats")  # usage statistics (issue 7)
    app.register_blueprint(stats_costs.bp, url_prefix="/stats/costs")  # cost sharing (issue 7)
    app.register_blueprint(account.bp)  # /sign-in, /sign-out, /account
    app.register_blueprint(accounts_admin.bp, url_prefix="/admin")  # /admin/accounts, /tokens
    ill_web.init_app(app)  # the ILL broker's context (alliance, reader-data cipher, mailer)
    app.register_blueprint(ill_api.bp, url_prefix="/api/v1/ill")
    app.register_blueprint(ill.bp, url_prefix="/ill")  # staff queues, detail, pick list, slips
    app.register_blueprint(ill_reader.bp, url_prefix="/ill")  # a reader's own requests
    iso18626.init_app(app)  # /iso18626: ISO 18626 with members' own systems (after ill_web)
    security.check_declared(app)  # refuse to start with a view that declares no permission
    return app


def get_db(app: Flask | None = None) -> Database:
    """Return the app's database (the current app when none is given)."""
    from flask import current_app

    return (app or current_app).extensions["federation.db"]
