"""A stand-in for the survey tools' APIs that fetch_response reads (SurveyMonkey v3, Qualtrics v3), on 127.0.0.1,
with a switch to make it fail for a while and counters of the calls it answered."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ROUTES = (
    ("surveymonkey_survey", re.compile(r"^/v3/surveys/(?P<survey>[\w-]+)/details$")),
    ("surveymonkey_response", re.compile(r"^/v3/surveys/(?P<survey>[\w-]+)/responses/(?P<response>[\w-]+)/details$")),
    ("qualtrics_response", re.compile(r"^/API/v3/surveys/(?P<survey>[\w-]+)/responses/(?P<response>[\w-]+)$")),
)


class SurveyApis:
    """Control it in-process (`add_*`, `fail`) or over HTTP: POST /__standin/faults {"status": 503, "count": 3}."""

    def __init__(self, surveymonkey_token: str = "", qualtrics_token: str = ""):
        self.tokens = {"surveymonkey": surveymonkey_token, "qualtrics": qualtrics_token}
        self.surveys: dict[str, dict[str, Any]] = {}
        self.responses: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.faults: list[list[int]] = []  # [status, remaining count]
        self.calls: dict[str, int] = {}
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    # --- data -------------------------------------------------------------------------------------------------------
    def add_surveymonkey(self, survey_id: str, details: dict[str, Any], responses: dict[str, dict[str, Any]]) -> None:
        self.surveys[survey_id] = details
        for response_id, body in responses.items():
            self.responses[("surveymonkey", survey_id, response_id)] = body

    def add_qualtrics(self, survey_id: str, response_id: str, values: dict[str, Any]) -> None:
        body = {
            "result": {"responseId": response_id, "values": values, "labels": {}},
            "meta": {"httpStatus": "200 - OK"},
        }
        self.responses[("qualtrics", survey_id, response_id)] = body

    def fail(self, status: int = 503, count: int = 1) -> None:
        """The next `count` API calls are answered `status`."""
        with self.lock:
            self.faults.append([status, count])

    # --- serving ----------------------------------------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        apis = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802
                status, body = apis.answer(self.path, dict(self.headers.items()))
                self._send(status, body)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    data = json.loads(self.rfile.read(length) or b"{}")
                    if self.path == "/__standin/faults":
                        apis.fail(int(data.get("status", 503)), int(data.get("count", 1)))
                        return self._send(200, {"faults": apis.faults})
                except (ValueError, TypeError, AttributeError) as exc:
                    return self._send(400, {"error": str(exc)})
                self._send(404, {"error": "no such control"})

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, name="survey-apis", daemon=True).start()
        return self.url

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def answer(self, path: str, headers: dict[str, str]) -> tuple[int, Any]:
        headers = {k.lower(): v for k, v in headers.items()}
        if path == "/__standin/stats":
            return 200, dict(self.calls)
        for name, pattern in ROUTES:
            found = pattern.match(path.split("?", 1)[0])
            if not found:
                continue
            with self.lock:
                self.calls[name] = self.calls.get(name, 0) + 1
                if self.faults:
                    fault = self.faults[0]
                    fault[1] -= 1
                    if fault[1] <= 0:
                        self.faults.pop(0)
                    return fault[0], {"error": {"message": "Service unavailable (stand-in fault)"}}
            tool = name.split("_", 1)[0]
            given = headers.get("x-api-token") if tool == "qualtrics" else headers.get("authorization", "")[7:]
            if self.tokens[tool] and given != self.tokens[tool]:
                return 401, {"error": {"message": "invalid credentials"}}
            if name == "surveymonkey_survey":
                survey = self.surveys.get(found["survey"])
                return (200, survey) if survey else (404, {"error": {"message": "survey not found"}})
            body = self.responses.get((tool, found["survey"], found["response"]))
            return (200, body) if body else (404, {"error": {"message": "response not found"}})
        return 404, {"error": {"message": "no such route"}}


def nps_survey(survey_id: str, nps_question: str = "q_nps", comment_question: str = "q_why") -> dict[str, Any]:
    """A SurveyMonkey survey details body with an 11-point NPS question (choices "0".."10") and an essay question."""
    choices = [{"id": f"c{n}", "position": n + 1, "text": str(n), "visible": True} for n in range(11)]
    return {
        "id": survey_id, "title": "NPS",
        "pages": [{"id": "p1", "questions": [
            {"id": nps_question, "family": "matrix", "subtype": "rating", "headings": [
                {"heading": "How likely are you to recommend us to a friend or colleague?"}],
             "answers": {"rows": [{"id": "r1", "text": ""}], "choices": choices}},
            {"id": comment_question, "family": "open_ended", "subtype": "essay",
             "headings": [{"heading": "Why?"}]},
        ]}],
    }  # fmt: skip


def nps_response(response_id: str, score: int, email: str | None = None, comment: str | None = None,
                 custom: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
    """A SurveyMonkey response details body answering `nps_survey`."""
    questions: list[dict[str, Any]] = [{"id": "q_nps", "answers": [{"choice_id": f"c{score}", "row_id": "r1"}]}]
    if comment:
        questions.append({"id": "q_why", "answers": [{"text": comment}]})
    metadata = {"contact": {"email": {"type": "string", "value": email}}} if email else {}
    return {"id": response_id, "response_status": "completed", "date_created": "2026-11-20T10:00:00+00:00",
            "date_modified": "2026-11-20T10:01:00+00:00", "custom_variables": custom or {}, "metadata": metadata,
            "pages": [{"id": "p1", "questions": questions}]}  # fmt: skip
