"""Serve an OAIProvider as a plain WSGI application (no framework)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs
from wsgiref.util import request_uri

if TYPE_CHECKING:
    from web.oai.provider import OAIProvider

log = logging.getLogger(__name__)

# OAI-PMH requests are a handful of short arguments; anything larger is not one.
MAX_BODY_BYTES = 64 * 1024
XML_TYPE = "text/xml; charset=utf-8"
FORM_TYPE = "application/x-www-form-urlencoded"
ALLOWED = "GET, HEAD, POST"

StartResponse = Callable[..., Any]


def _plain(start_response: StartResponse, status: str, message: str, *extra: tuple[str, str]):
    body = (message + "\n").encode("utf-8")
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    start_response(status, headers + list(extra))
    return [body]


def _decode(raw: bytes) -> dict[str, list[str]]:
    return parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)


def _form_body(environ: dict[str, Any]) -> bytes | tuple[str, str]:
    """Return the POST body, or the status and message saying why it is refused."""
    content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        return "415 Unsupported Media Type", f"Send OAI-PMH arguments as {FORM_TYPE}."
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return "400 Bad Request", "The Content-Length header is not a number."
    if length > MAX_BODY_BYTES:
        return "413 Content Too Large", f"OAI-PMH requests are at most {MAX_BODY_BYTES} bytes."
    return environ["wsgi.input"].read(length) if length > 0 else b""


def make_wsgi_app(provider: OAIProvider) -> Callable[..., Iterable[bytes]]:
    """Return a WSGI app answering OAI-PMH GET and POST requests with ``provider``."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if method in ("GET", "HEAD"):
            # PEP 3333 hands the query string over as latin-1 decoded bytes.
            params = _decode(environ.get("QUERY_STRING", "").encode("latin-1"))
        elif method == "POST":
            body = _form_body(environ)
            if isinstance(body, tuple):
                return _plain(start_response, *body)
            params = _decode(body)
        else:
            return _plain(
                start_response, "405 Method Not Allowed", "Use GET or POST.", ("Allow", ALLOWED)
            )
        try:
            document = provider.handle(params, base_url=request_uri(environ, include_query=False))
        except Exception:  # the repository failed: log the cause, answer without a traceback
            log.exception("OAI-PMH request failed: %s", environ.get("QUERY_STRING", "")[:200])
            return _plain(start_response, "500 Internal Server Error", "The repository failed.")
        # OAI-PMH errors are ordinary responses: always 200 (the spec, section 3.6).
        start_response(
            "200 OK", [("Content-Type", XML_TYPE), ("Content-Length", str(len(document)))]
        )
        return [] if method == "HEAD" else [document]

    return app
