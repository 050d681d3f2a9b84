"""The HTTP API on 127.0.0.1: each HttpApi route of template.yaml, handed to its function as a payload 2.0 event."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from npsloop_local.template import ACCOUNT, Route
from npsloop_local.workers import InvocationError

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript", "+json", "+xml")

Invoke = Callable[[dict[str, Any]], Any]


def http_event(method: str, target: str, headers: list[tuple[str, str]], body: bytes, route: Route,
               params: dict[str, str], source_ip: str) -> dict[str, Any]:  # fmt: skip
    """What API Gateway HTTP API (payload format 2.0) hands a Lambda function for this request."""
    url = urlsplit(target)
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        if name.lower() == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
        else:
            merged[name.lower()] = f"{merged[name.lower()]},{value}" if name.lower() in merged else value
    query: dict[str, str] = {}
    for name, value in parse_qsl(url.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    content_type = merged.get("content-type", "")
    textual = any(t in content_type for t in TEXT_TYPES)
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.key,
        "rawPath": url.path,
        "rawQueryString": url.query,
        "headers": merged,
        "requestContext": {
            "accountId": ACCOUNT, "apiId": "local", "domainName": merged.get("host", "127.0.0.1"),
            "domainPrefix": "local", "requestId": uuid.uuid4().hex, "routeKey": route.key, "stage": "$default",
            "time": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"), "timeEpoch": int(now * 1000),
            "http": {"method": method, "path": url.path, "protocol": "HTTP/1.1", "sourceIp": source_ip,
                     "userAgent": merged.get("user-agent", "")},
        },
        "isBase64Encoded": bool(body) and not textual,
    }  # fmt: skip
    if body:
        event["body"] = body.decode("utf-8", "replace") if textual else base64.b64encode(body).decode()
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if params:
        event["pathParameters"] = params
    return event


class HttpApi:
    def __init__(self, routes: list[tuple[Route, Invoke]], host: str, port: int):
        self.routes = routes
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
                pass

            def do_any(self) -> None:
                api.serve(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_TRACE = do_any  # noqa: N815

            def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
                if code == 501:  # a method no route has (CONNECT, PROPFIND, ...): API Gateway answers 404
                    self.close_connection = True  # its body, if any, is left unread
                    return _reply(self, 404, {"message": "Not Found"})
                return super().send_error(code, message, explain)

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="http-api", daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def serve(self, request: BaseHTTPRequestHandler) -> None:
        body = _read_body(request)
        if body is None:
            return _reply(request, 413, {"message": "Request Entity Too Large"})
        path = urlsplit(request.path).path
        for route, invoke in self.routes:
            params = route.match(request.command, path)
            if params is None:
                continue
            event = http_event(request.command, request.path, list(request.headers.items()), body, route, params,
                               request.client_address[0])  # fmt: skip
            try:
                result = invoke(event)
            except InvocationError:
                return _reply(request, 500, {"message": "Internal Server Error"})
            return _reply_from(request, result)
        return _reply(request, 404, {"message": "Not Found"})


def _read_body(request: BaseHTTPRequestHandler) -> bytes | None:
    """The request body (Content-Length or chunked), or None when it exceeds API Gateway's limit."""
    if request.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks, total = [], 0
        while (size := int(request.rfile.readline().split(b";")[0].strip() or b"0", 16)) > 0:
            total += size
            if total > MAX_REQUEST_BYTES:
                return None
            chunks.append(request.rfile.read(size))
            request.rfile.readline()
        request.rfile.readline()
        return b"".join(chunks)
    length = int(request.headers.get("Content-Length") or 0)
    if length > MAX_REQUEST_BYTES:
        request.close_connection = True
        return None
    return request.rfile.read(length) if length else b""


def _reply(request: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
    _send(request, status, {"content-type": "application/json"}, json.dumps(body).encode(), [])


def _reply_from(request: BaseHTTPRequestHandler, result: Any) -> None:
    """A payload 2.0 response; a bare value without statusCode is sent as 200 JSON, as API Gateway does."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return _send(request, 200, {"content-type": "application/json"}, json.dumps(result).encode(), [])
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
    headers = {k.lower(): str(v) for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[name.lower()] = ",".join(map(str, values))
    return _send(request, int(result["statusCode"]), headers, body, result.get("cookies") or [])


def _send(request: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes, cookies: list) -> None:
    request.send_response(status)
    for name, value in headers.items():
        if name not in ("content-length", "connection"):
            request.send_header(name, value)
    for cookie in cookies:
        request.send_header("set-cookie", cookie)
    request.send_header("content-length", str(len(body)))
    request.end_headers()
    if request.command != "HEAD":
        request.wfile.write(body)
