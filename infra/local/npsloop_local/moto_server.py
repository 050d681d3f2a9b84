"""The moto server of the local stack, in its own process: moto's WSGI app, DynamoDB calls taken one at a time.

Its own process gives moto a core of its own (the stack's process serves HTTP and polls queues).

moto's DynamoDB backend is not safe under concurrent requests: a TransactWriteItems copies the tables while
another thread writes to them ("dictionary changed size during iteration" → HTTP 500). Real DynamoDB has no
such limit, so the local stack serialises DynamoDB calls (each takes a millisecond or two) and leaves every
other service concurrent, SQS long polls included.
"""

from __future__ import annotations

import argparse
import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server


class _DynamoDbOneAtATime:
    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return self.app(environ, start_response)
        with self.lock:
            return list(self.app(environ, start_response))


def patch_eventbridge_envelope() -> None:
    """moto leaves out the envelope's "account" (reference/moto-and-sam.md §3.1); real EventBridge sends it."""
    from moto.events.utils import EventTemplateParser

    template = EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE
    if '"account"' not in template:
        EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE = template.replace(
            '"source": "<source>",', '"source": "<source>", "account": "<account>",'
        )


def serve(host: str, port: int) -> None:
    patch_eventbridge_envelope()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per AWS call otherwise
    app = _DynamoDbOneAtATime(DomainDispatcherApplication(create_backend_app))
    make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler).serve_forever()


class MotoServer:
    """`python -m npsloop_local.moto_server` as a child process, stopped with the stack."""

    def __init__(self, host: str, port: int, log: Any = None):
        self.host, self.port, self.log = host, port, log
        self.process: subprocess.Popen | None = None

    def start(self, timeout_s: float = 30) -> None:
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", "npsloop_local.moto_server", "--host", self.host, "--port", str(self.port)],
            stdout=self.log, stderr=self.log, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise OSError(f"the moto server exited at start (port {self.port} taken?)")
            try:
                socket.create_connection((self.host, self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise OSError(f"the moto server did not open port {self.port}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="moto server for the npsloop local stack")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    serve(args.host, args.port)
