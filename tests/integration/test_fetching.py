"""npsloop.sources.fetching over real HTTP on 127.0.0.1: what a survey tool's API answers becomes a JSON object or a
FetchError that names the status or the kind of failure, never the body; redirects and compressed bodies work as
they did with requests."""

import gzip
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from npsloop.errors import FetchError
from npsloop.sources.fetching import get_json

ANSWERS = {
    "/object": (200, "application/json", json.dumps({"result": {"score": 9}}).encode()),
    "/utf16": (200, "application/json", json.dumps({"comment": "schön"}).encode("utf-16")),
    "/array": (200, "application/json", b"[1, 2]"),
    "/html": (200, "text/html", b"<html>ada@example.com</html>"),
    "/down": (503, "application/json", b'{"error": "ada@example.com is down"}'),
}


@pytest.fixture
def api() -> Iterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002
            pass

        def do_GET(self):  # noqa: N802
            seen.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
            if self.path.startswith("/moved"):  # /moved?to=<url>
                self.send_response(302)
                self.send_header("Location", self.path.split("to=", 1)[1])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status, kind, body = ANSWERS[self.path.split("?", 1)[0]]
            compress = "gzip" in self.headers.get("Accept-Encoding", "")
            body = gzip.compress(body) if compress else body
            self.send_response(status)
            self.send_header("Content-Type", kind)
            if compress:
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_a_json_object_is_read_with_the_callers_headers_and_a_compressed_body(api):
    url, seen = api
    assert get_json(url + "/object", {"Authorization": "Bearer t"}, "tool") == {"result": {"score": 9}}
    assert get_json(url + "/utf16", {}, "tool") == {"comment": "schön"}
    assert seen[0]["authorization"] == "Bearer t" and "gzip" in seen[0]["accept-encoding"]


def test_a_redirect_is_followed_and_another_host_gets_no_authorization(api):
    url, seen = api
    assert get_json(f"{url}/moved?to={url}/object", {"Authorization": "Bearer t"}, "tool") == {"result": {"score": 9}}
    assert [s.get("authorization") for s in seen] == ["Bearer t", "Bearer t"]
    other = url.replace("127.0.0.1", "localhost")  # the same server under another host name
    assert get_json(f"{url}/moved?to={other}/object", {"Authorization": "Bearer t"}, "tool") == {"result": {"score": 9}}
    assert seen[-1]["path"] == "/object" and "authorization" not in seen[-1]


@pytest.mark.parametrize(("path", "message"), [
    ("/down", "tool: HTTP 503"),
    ("/html", "tool: the answer is not JSON"),
    ("/array", "tool: the answer is not a JSON object"),
])  # fmt: skip
def test_anything_but_a_json_object_is_a_fetch_error_without_the_body(api, path, message):
    url, _ = api
    with pytest.raises(FetchError) as caught:
        get_json(url + path, {}, "tool")
    assert str(caught.value) == message and "example.com" not in str(caught.value)


def test_an_unreachable_api_is_a_fetch_error_naming_the_failure_once_tried():
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(FetchError, match=r"^tool: NewConnectionError$"):
        get_json(f"http://127.0.0.1:{port}/object", {}, "tool")
