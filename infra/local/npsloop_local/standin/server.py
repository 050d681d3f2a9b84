"""SalesforceStandin: the stand-in app served by a threaded werkzeug server on a background thread."""

import threading

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import StandinApp


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """No access log: tests and local runs stay readable."""


class SalesforceStandin:
    """A local imitation of the Salesforce REST API subset npsloop uses, with Salesforce's status codes and bodies."""

    def __init__(self, db_path: str | None = None, api_limit: int = 100_000):
        self.app = StandinApp(db_path or ":memory:", api_limit)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on host:port (0 picks a free port) from a background thread; returns the base URL."""
        if self._server is not None:
            raise RuntimeError("the Salesforce stand-in is already running")
        self._server = make_server(host, port, self.app, threaded=True, request_handler=_QuietHandler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="salesforce-standin", daemon=True
        )
        self._thread.start()
        return self.url

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the Salesforce stand-in is not running")
        host = self._server.server_address[0]
        return f"http://{f'[{host}]' if ':' in host else host}:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None
