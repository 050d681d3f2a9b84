"""Local HTTP receivers on 127.0.0.1 for tests: a Slack/Teams stand-in and a hook target with scripted answers."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """Records every POST (headers, raw body, JSON, arrival time); answers with `statuses` in turn, then 200."""

    def __init__(self, statuses=(), path="/hook", headers=None):
        self.posts = []
        self.statuses = list(statuses)
        self.extra_headers = dict(headers or {})
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    receiver.posts.append(
                        {"path": self.path, "headers": headers, "raw": raw, "status": status, "at": time.monotonic()}
                    )
                self.send_response(status)
                for name, value in receiver.extra_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = self.base + path

    def json(self):
        return [json.loads(p["raw"]) for p in self.posts]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
