"""npsloop.outbound over real HTTP on 127.0.0.1: the query string, JSON, form and raw bodies a call sends (the
Salesforce client's token request, queries, upserts and Bulk API uploads), and the answer as requests gave it."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import urllib3

from npsloop import outbound

TIMEOUT = urllib3.Timeout(connect=3, read=10)


@pytest.fixture
def echo() -> Iterator[str]:
    """Answers every call with what it received, as JSON in Latin-1, and a header to read back."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002
            pass

        def answer(self):
            sent = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen = {"method": self.command, "path": self.path, "type": self.headers.get("Content-Type"),
                    "body": sent.decode(), "greeting": "schön"}  # fmt: skip
            body = json.dumps(seen, ensure_ascii=False).encode("latin-1")
            self.send_response(201)
            self.send_header("Content-Type", "application/json; charset=ISO-8859-1")
            self.send_header("Sforce-Limit-Info", "api-usage=18/15000")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = answer  # noqa: N815

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_params_go_in_the_query_string_after_any_the_url_has(echo):
    answer = outbound.send("GET", echo + "/query", params={"q": "SELECT Id FROM Contact"}, timeout=TIMEOUT)
    assert answer.json()["path"] == "/query?q=SELECT+Id+FROM+Contact"
    answer = outbound.send("DELETE", echo + "/c?x=1", params={"ids": "a,b"}, timeout=TIMEOUT)
    assert (answer.json()["method"], answer.json()["path"]) == ("DELETE", "/c?x=1&ids=a%2Cb")


def test_json_form_and_raw_bodies_go_with_their_content_type(echo):
    sent = outbound.send("PATCH", echo + "/u", json_body={"records": [{"Name": "Zoë"}]}, timeout=TIMEOUT).json()
    assert sent["type"] == "application/json" and json.loads(sent["body"]) == {"records": [{"Name": "Zoë"}]}
    sent = outbound.send("POST", echo + "/t", form={"grant_type": "client_credentials", "x": "a b&c"},
                         timeout=TIMEOUT).json()  # fmt: skip
    assert sent["type"] == "application/x-www-form-urlencoded"
    assert sent["body"] == "grant_type=client_credentials&x=a+b%26c"
    sent = outbound.send("PUT", echo + "/b", body=b"a,b\n1,2\n", headers={"Content-Type": "text/csv"},
                         timeout=TIMEOUT).json()  # fmt: skip
    assert (sent["type"], sent["body"]) == ("text/csv", "a,b\n1,2\n")
    with pytest.raises(ValueError):
        outbound.send("POST", echo + "/nan", json_body={"score": float("nan")}, timeout=TIMEOUT)  # not JSON


def test_the_answer_has_the_status_headers_and_text_in_its_charset(echo):
    answer = outbound.send("POST", echo + "/x", json_body={"score": 9}, timeout=TIMEOUT)
    assert answer.status_code == 201 and answer.reason == "Created"
    assert answer.headers.get("sforce-limit-info") == "api-usage=18/15000"  # case-insensitive
    assert json.loads(answer.text)["greeting"] == "schön"  # ISO-8859-1, as its Content-Type says
