"""One error shape for the API, friendly pages for people; never a traceback."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger("federation.web")


def error_body(code: str, message: str, details: object | None = None) -> dict:
    """Return the one JSON error shape: {"error": {"code", "message", "details"}}."""
    return {"error": {"code": code, "message": message, "details": details or {}}}


def wants_json() -> bool:
    """Tell whether the client should get the JSON error shape rather than a page."""
    return _wants_json()


def _wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _respond(status: int, code: str, message: str, details: object | None = None):
    if _wants_json():
        return jsonify(error_body(code, message, details)), status
    return render_template("error.html", status=status, message=message), status


def handle_http_error(exc: HTTPException):
    """Render an HTTP error (404, 405, 413, ...) in the shape the client asked for."""
    code = (exc.name or "error").lower().replace(" ", "_")
    return _respond(exc.code or 500, code, exc.description or exc.name)


def handle_unexpected(exc: Exception):
    """Log the cause and answer with a plain message; the client never sees a traceback."""
    if isinstance(exc, HTTPException) and not isinstance(exc, InternalServerError):
        return handle_http_error(exc)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return _respond(500, "internal_error", "Something went wrong on our side; it has been logged.")


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
