"""The stand-in's WSGI app: OAuth token endpoint, session checks, faults, API-call accounting, /__standin controls."""

import json
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from .api import API_PATH, Api, Call, Reply, error_reply
from .bulk import BulkJobs
from .control import Fault, FaultQueue, Stats
from .errors import ApiError, not_found
from .ids import DEFAULT_USER_ID
from .oauth import OAuthError, Tokens, grant
from .operations import ValidationRule, Writer
from .store import Store

logger = logging.getLogger(__name__)

CONTROL_PREFIX = "/__standin/"
OAUTH_ENDPOINT = "/services/oauth2/token"
RECORDS_VERSION = "v62.0"  # API version of the attribute urls in /__standin/records
_RECORDS = re.compile(r"records/(\w+)")


class StandinApp:
    """WSGI callable; `store`, `stats`, `faults`, `rules` and `tokens` are there for tests to inspect."""

    def __init__(self, db_path: str, api_limit: int):
        self.api_limit = api_limit
        self.store = Store(db_path)
        self.rules: list[ValidationRule] = []
        self.writer = Writer(self.store, self.rules, DEFAULT_USER_ID)
        self.api = Api(self.store, self.writer, BulkJobs(self.writer))
        self.stats = Stats()
        self.faults = FaultQueue()
        self.tokens = Tokens()
        self.refusal: dict[str, str] | None = None  # set: every token request is refused with this OAuth error
        self._add_default_user()
        self._controls: dict[tuple[str, str], Callable[[Request], Reply]] = {
            ("GET", "stats"): lambda _: Reply(200, self.stats.snapshot()),
            ("POST", "stats/reset"): self._reset_stats,
            ("GET", "faults"): lambda _: Reply(200, self.faults.pending()),
            ("POST", "faults"): self._add_fault,
            ("DELETE", "faults"): self._clear_faults,
            ("POST", "validation"): self._add_rule,
            ("DELETE", "validation"): self._clear_rules,
            ("POST", "expire-tokens"): self._expire_tokens,
            ("POST", "token-refusal"): self._refuse_tokens,
            ("DELETE", "token-refusal"): self._refuse_tokens,
            ("POST", "reset"): self._reset,
        }

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        try:
            reply = self._handle(request)
        except Exception:  # a stand-in bug, not bad input: answer the way Salesforce reports platform errors
            logger.exception("Salesforce stand-in failed on %s %s", request.method, request.path)
            reply = Reply(500, [{"errorCode": "UNKNOWN_EXCEPTION", "message": "An unexpected error occurred."}])
        return _response(reply)(environ, start_response)

    def _handle(self, request: Request) -> Reply:
        if request.path.startswith(CONTROL_PREFIX):
            return self._control(request, request.path[len(CONTROL_PREFIX) :].strip("/"))
        if request.path.rstrip("/") == OAUTH_ENDPOINT and request.method == "POST":
            return self._token(request)
        match = API_PATH.fullmatch(request.path)
        if match is None:
            return error_reply(not_found())
        reply = self._data_call(request, match)
        reply.headers["Sforce-Limit-Info"] = f"api-usage={self.stats.total}/{self.api_limit}"
        return reply

    def _data_call(self, request: Request, match: re.Match) -> Reply:
        """Faults first, then the session, then the daily limit; only calls that reach a resource are counted."""
        fault = self.faults.take()
        if fault is not None:
            return _fault_reply(fault)
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() not in ("bearer", "oauth") or not self.tokens.is_valid(token.strip()):
            return _fault_reply(Fault(401, "INVALID_SESSION_ID", "Session expired or invalid"))
        if self.stats.total >= self.api_limit:
            return error_reply(ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."))
        call = Call(
            request.method,
            match.group(1),
            match.group(2) or "",
            request.args.to_dict(),
            request.headers.get("Sforce-Query-Options", ""),
            request.get_data(),
        )
        reply, kind = self.api.dispatch(call)
        if kind is not None:
            self.stats.count(kind)
        return reply

    def _token(self, request: Request) -> Reply:
        auth = request.authorization
        basic = (auth.username or "", auth.password or "") if auth is not None and auth.type == "basic" else None
        if self.refusal is not None:
            return Reply(400, self.refusal)
        try:
            return Reply(200, grant(request.form, basic, request.host_url.rstrip("/"), self.tokens))
        except OAuthError as error:
            return Reply(400, error.body)

    # -- /__standin controls (no token, not counted)

    def _control(self, request: Request, action: str) -> Reply:
        records = _RECORDS.fullmatch(action)
        if records and request.method == "GET":
            found = self.store.all(records.group(1))
            return Reply(200, [self.api.record_body(record, RECORDS_VERSION) for record in found])
        handler = self._controls.get((request.method, action))
        if handler is None:
            return Reply(404, {"error": f"no control {request.method} {CONTROL_PREFIX}{action}"})
        try:
            return handler(request)
        except ValueError as error:
            return Reply(400, {"error": str(error)})

    def _add_fault(self, request: Request) -> Reply:
        fault = Fault.from_json(_json(request))
        self.faults.add(fault)
        return Reply(201, fault.as_json())

    def _clear_faults(self, request: Request) -> Reply:
        self.faults.clear()
        return Reply(204)

    def _add_rule(self, request: Request) -> Reply:
        data = _json(request)
        if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("sobject", "field")):
            raise ValueError("a rule needs sobject, field, equals, errorCode and message")
        if "equals" not in data:
            raise ValueError("a rule needs the value it rejects in equals")
        rule = ValidationRule(
            data["sobject"],
            data["field"],
            data["equals"],
            str(data.get("errorCode", "FIELD_CUSTOM_VALIDATION_EXCEPTION")),
            str(data.get("message", "Validation rule failed")),
        )
        self.rules.append(rule)
        return Reply(201, data)

    def _clear_rules(self, request: Request) -> Reply:
        self.rules.clear()
        return Reply(204)

    def _expire_tokens(self, request: Request) -> Reply:
        self.tokens.expire_all()
        return Reply(204)

    def _refuse_tokens(self, request: Request) -> Reply:
        """POST {"error", "error_description"}: refuse token requests as a misconfigured org would; DELETE: stop."""
        if request.method == "DELETE":
            self.refusal = None
            return Reply(204)
        data = _json(request)
        if not isinstance(data, dict) or not isinstance(data.get("error"), str):
            raise ValueError('a refusal needs "error" and "error_description", e.g. invalid_grant')
        self.refusal = {"error": data["error"], "error_description": str(data.get("error_description", ""))}
        return Reply(201, self.refusal)

    def _reset_stats(self, request: Request) -> Reply:
        self.stats.reset()
        return Reply(204)

    def _reset(self, request: Request) -> Reply:
        """Wipe records, counters, faults, validation rules, query cursors and bulk jobs; keep tokens."""
        self.store.clear()
        self._add_default_user()
        self.stats.reset()
        self.faults.clear()
        self.rules.clear()
        self.refusal = None
        self.api.reset()
        return Reply(204)

    def _add_default_user(self) -> None:
        if self.store.get(DEFAULT_USER_ID) is None:
            user = {"Name": "Integration User", "Email": "integration.npsloop@example.com"}
            self.store.insert("User", user, DEFAULT_USER_ID)


def _json(request: Request) -> Any:
    return json.loads(request.get_data() or b"null")


def _fault_reply(fault: Fault) -> Reply:
    reply = Reply(fault.status, [{"message": fault.message, "errorCode": fault.error_code}])
    if fault.status == 401:
        reply.headers["WWW-Authenticate"] = "Token"
    return reply


def _response(reply: Reply) -> Response:
    if reply.body is None:
        return Response(status=reply.status, headers=reply.headers)
    if isinstance(reply.body, str):
        return Response(reply.body, reply.status, reply.headers, content_type="text/csv")
    return Response(json.dumps(reply.body), reply.status, reply.headers, content_type="application/json;charset=UTF-8")
