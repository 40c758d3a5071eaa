"""Run WSGI apps on loopback ports in background threads (the demo's member endpoints, tests)."""

from __future__ import annotations

import logging
import threading
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

log = logging.getLogger(__name__)


class _QuietHandler(WSGIRequestHandler):
    """Send werkzeug's per-request lines to our logger at DEBUG instead of stderr."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("%s %s %s", self.command, self.path, code)

    def log(self, type: str, message: str, *args: Any) -> None:
        getattr(log, type if type in ("info", "warning", "error") else "debug")(message, *args)


class EndpointServer:
    """Serve one or many WSGI apps, each on its own port, until ``stop`` (or the ``with`` ends)."""

    def __init__(self) -> None:
        self._servers: list[tuple[BaseWSGIServer, threading.Thread]] = []
        self._lock = threading.Lock()

    def start(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve ``app`` on ``host:port`` (0 = any free port); return the base URL bound."""
        server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
        bound = server.server_port
        # A short poll interval lets the demo stop a dozen servers in about a second.
        thread = threading.Thread(
            target=server.serve_forever, args=(0.1,), name=f"endpoint-{bound}", daemon=True
        )
        thread.start()
        with self._lock:
            self._servers.append((server, thread))
        url_host = f"[{host}]" if ":" in host else host
        log.info("serving on http://%s:%d/", url_host, bound)
        return f"http://{url_host}:{bound}/"

    def stop(self) -> None:
        """Stop every server started here and wait for their threads."""
        with self._lock:
            servers, self._servers = self._servers, []
        for server, thread in servers:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

    def __enter__(self) -> EndpointServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
