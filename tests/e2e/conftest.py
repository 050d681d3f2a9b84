"""`npsloop local` started as a user starts it, on free ports of 127.0.0.1, and talked to over real HTTP."""

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest
import requests

from npsloop_local.template import Template

ROOT = Path(__file__).resolve().parents[2]
GENERIC_SECRET = "whsec_" + base64.b64encode(b"e2e-generic-secret").decode()
TYPEFORM_SECRET = "e2e-typeform-secret"
READY_TIMEOUT_S = 90
# how long a test watches for a wrong extra effect (a second delivery, an alert that must not come): compute_score's
# batching window (the template's default, which the e2e stacks run with) and a few seconds for what follows it
NOTHING_MORE_S = int(Template().parameters["ScoreBatchWindowSeconds"]) + 4
API_KEY = "npl_e2e-key"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    """A local HTTP receiver standing in for Slack's incoming webhook: records every POST."""

    def __init__(self):
        self.posts = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                receiver.posts.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T000/B000/XXXX"


class Local:
    def __init__(self, process, api, salesforce, aws, log):
        self.process, self.api, self.salesforce, self.aws, self.log = process, api, salesforce, aws, log

    def client(self, service):
        return boto3.client(
            service,
            endpoint_url=self.aws,
            region_name="eu-central-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def standin(self, method, path, **kw):
        return requests.request(method, f"{self.salesforce}{path}", timeout=30, **kw)

    def records(self, sobject):
        return self.standin("GET", f"/__standin/records/{sobject}").json()

    def wait_for(self, predicate, timeout=30.0, what="condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.2)
        raise AssertionError(
            f"timed out after {timeout} s waiting for {what}\n--- stack log ---\n{self.log.read_text()[-4000:]}"
        )


@pytest.fixture(scope="session")
def slack():
    return Receiver()


def start_local(tmp, *extra, secrets=None):
    """Start `npsloop local` on free ports and wait for its ready line; the caller stops it."""
    secrets_file = tmp / "secrets.json"
    secrets_file.write_text(
        json.dumps(
            secrets
            or {
                "sources": {
                    "generic": {"signing_secret": GENERIC_SECRET},
                    "typeform": {"signing_secret": TYPEFORM_SECRET},
                }
            }
        )
    )
    api, sf, aws = free_port(), free_port(), free_port()
    log = tmp / "stack.log"
    npsloop = Path(sys.executable).with_name("npsloop")
    command = [
        str(npsloop),
        "local",
        "--port",
        str(api),
        "--salesforce-port",
        str(sf),
        "--aws-port",
        str(aws),
        "--secrets",
        str(secrets_file),
        *extra,
    ]
    with log.open("w") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"}
        )
    stack = Local(process, f"http://127.0.0.1:{api}", f"http://127.0.0.1:{sf}", f"http://127.0.0.1:{aws}", log)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while "npsloop local is ready" not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"npsloop local did not start:\n{log.read_text()[-4000:]}")
        time.sleep(0.2)
    return stack


def stop_local(stack, timeout=30):
    stack.process.send_signal(signal.SIGTERM)
    try:
        return stack.process.wait(timeout)
    except subprocess.TimeoutExpired:
        stack.process.kill()
        raise


@pytest.fixture(scope="session")
def local(tmp_path_factory, slack):
    secrets = {
        "sources": {"generic": {"signing_secret": GENERIC_SECRET}, "typeform": {"signing_secret": TYPEFORM_SECRET}},
        "notify": {"slack_webhook_url": slack.url},
    }
    stack = start_local(tmp_path_factory.mktemp("local"), "--api-key", API_KEY, secrets=secrets)
    yield stack
    assert stop_local(stack) == 0
