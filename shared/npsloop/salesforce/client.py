"""A small Salesforce REST client: token from the connected app, one refresh on an expired session, typed errors.

Its calls go through the container's pool (npsloop.outbound: urllib3, as a requests.Session made them)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import urllib3

from npsloop import outbound
from npsloop.secrets import SalesforceSecret

# Codes whose record or request will never succeed as sent (reference/salesforce.md §4): retrying only burns calls.
NON_RETRYABLE = frozenset({
    "DUPLICATE_VALUE", "DUPLICATES_DETECTED", "INVALID_FIELD", "INVALID_FIELD_FOR_INSERT_UPDATE",
    "REQUIRED_FIELD_MISSING",
    "MALFORMED_ID", "INVALID_CROSS_REFERENCE_KEY", "FIELD_CUSTOM_VALIDATION_EXCEPTION", "FIELD_INTEGRITY_EXCEPTION",
    "INVALID_EMAIL_ADDRESS", "STRING_TOO_LONG", "NUMBER_OUTSIDE_VALID_RANGE", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
    "INVALID_TYPE", "INVALID_TYPE_ON_FIELD_IN_RECORD", "ENTITY_IS_DELETED", "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
    "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY", "INVALID_ID_FIELD", "JSON_PARSER_ERROR",
})  # fmt: skip
TIMEOUT = urllib3.Timeout(connect=3.05, read=30)


class SalesforceError(Exception):
    """A failed call or record: Salesforce's own code and message, and whether trying again can help."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message = status, code, message

    @property
    def retryable(self) -> bool:
        return self.code not in NON_RETRYABLE


class SalesforceAuthError(SalesforceError):
    """The org refused the integration's credentials: a configuration problem, not worth retrying."""

    @property
    def retryable(self) -> bool:
        return False


@dataclass(frozen=True)
class Token:
    access_token: str
    instance_url: str


_tokens: dict[tuple[str, str], Token] = {}  # for the life of the container
_refused: dict[tuple[str, str], tuple[float, SalesforceAuthError]] = {}
_tokens_lock = threading.Lock()
REFUSAL_CACHE_SECONDS = 60


def error_from(response: outbound.Answer) -> SalesforceError:
    """Salesforce's error array `[{"errorCode", "message"}]`, or whatever a CDN put in its place."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return SalesforceError(response.status_code, body[0].get("errorCode", "UNKNOWN"), body[0].get("message", ""))
    if isinstance(body, dict) and "error" in body:
        return SalesforceError(response.status_code, body["error"], body.get("error_description", ""))
    return SalesforceError(response.status_code, f"HTTP_{response.status_code}", response.reason or "")


class SalesforceClient:
    def __init__(self, secret: SalesforceSecret, api_version: str = "62.0"):
        self.secret = secret
        self.api_version = api_version
        self.usage: tuple[int, int] | None = None  # from Sforce-Limit-Info: (used, allocation) over 24 h

    # --- auth -------------------------------------------------------------------------------------------------
    def _token(self, *, refresh: bool = False) -> Token:
        key = (self.secret.login_url, self.secret.client_id)
        with _tokens_lock:
            if not refresh and key in _tokens:
                return _tokens[key]
            refused = _refused.get(key)
        if refused and refused[0] > time.monotonic():
            raise refused[1]  # the org refused these credentials a moment ago: do not hammer its token endpoint
        try:
            token = self._mint()
        except SalesforceAuthError as exc:
            with _tokens_lock:
                _refused[key] = (time.monotonic() + REFUSAL_CACHE_SECONDS, exc)
            raise
        with _tokens_lock:
            _tokens[key] = token
            _refused.pop(key, None)
        return token

    def _grant(self) -> dict[str, str]:
        """The token request's form: a signed JWT assertion, or the client credentials."""
        if self.secret.flow == "client_credentials":
            return {"grant_type": "client_credentials", "client_id": self.secret.client_id,
                    "client_secret": self.secret.client_secret}  # fmt: skip
        import jwt  # only containers that use the JWT flow pay for importing cryptography

        claims = {"iss": self.secret.client_id, "sub": self.secret.username, "aud": self.secret.jwt_audience,
                  "exp": int(time.time()) + 180}  # fmt: skip
        try:
            assertion = jwt.encode(claims, self.secret.private_key, algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            raise SalesforceAuthError(0, "INVALID_PRIVATE_KEY", f"cannot sign the JWT: {exc}") from None
        return {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion}

    def _mint(self) -> Token:
        url = self.secret.login_url.rstrip("/") + "/services/oauth2/token"
        try:
            response = outbound.send("POST", url, form=self._grant(), timeout=TIMEOUT)
        except outbound.Error as exc:
            kind = outbound.failure(exc)
            raise SalesforceError(0, "CONNECTION_ERROR", f"token endpoint unreachable: {kind}") from None
        if response.status_code >= 500:
            raise error_from(response)
        if response.status_code != 200:
            error = error_from(response)
            raise SalesforceAuthError(error.status, error.code, error.message)
        body = response.json()
        return Token(body["access_token"], body["instance_url"].rstrip("/"))

    # --- calls ------------------------------------------------------------------------------------------------
    def request(self, method: str, path: str, *, headers: dict[str, str] | None = None,
                params: dict[str, str] | None = None, json: Any = None,
                data: bytes | None = None) -> outbound.Answer:  # fmt: skip
        """Call a REST path (`/services/data/...`) with a JSON body or raw bytes (`data`, with their Content-Type);
        an expired session is refreshed once and the call replayed."""
        token = self._token()
        extra = headers or {}
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {token.access_token}", "Sforce-Call-Options": "client=npsloop",
                       "Sforce-Mru": "updateMru=false", **extra}  # fmt: skip
            try:
                response = outbound.send(method, token.instance_url + path, headers=headers, params=params,
                                         json_body=json, body=data, timeout=TIMEOUT)  # fmt: skip
            except outbound.Error as exc:
                raise SalesforceError(0, "CONNECTION_ERROR", outbound.failure(exc)) from None
            self._read_usage(response)
            if response.status_code == 401 and attempt == 0:
                error = error_from(response)
                if error.code == "INVALID_SESSION_ID" and "not valid for use with the REST API" not in error.message:
                    token = self._token(refresh=True)
                    continue
            if response.status_code >= 400:
                raise error_from(response)
            return response
        raise AssertionError("unreachable")

    def _read_usage(self, response: outbound.Answer) -> None:
        info = response.headers.get("Sforce-Limit-Info", "")
        for part in info.split(";"):
            name, _, value = part.strip().partition("=")
            if name == "api-usage" and "/" in value:
                used, _, total = value.partition("/")
                if used.isdigit() and total.isdigit():
                    self.usage = (int(used), int(total))

    def data_path(self, rest: str) -> str:
        return f"/services/data/v{self.api_version}/{rest.lstrip('/')}"

    def query(self, soql: str) -> list[dict[str, Any]]:
        """All records of a SOQL query, following nextRecordsUrl page by page."""
        page = self.request("GET", self.data_path("query"), params={"q": soql}).json()
        records = list(page["records"])
        while not page.get("done", True) and page.get("nextRecordsUrl"):
            page = self.request("GET", page["nextRecordsUrl"]).json()
            records.extend(page["records"])
        return records

    def upsert(self, sobject: str, external_id_field: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """sObject Collections upsert of at most 200 records, allOrNone false: one result per record, in order."""
        if len(records) > 200:
            raise ValueError("sObject Collections take at most 200 records")
        path = self.data_path(f"composite/sobjects/{sobject}/{external_id_field}")
        body = {"allOrNone": False, "records": [{"attributes": {"type": sobject}, **r} for r in records]}
        return self.request("PATCH", path, json=body).json()

    def delete(self, ids: list[str]) -> list[dict[str, Any]]:
        """sObject Collections delete of at most 200 records, allOrNone false: one DeleteResult per id, in order.

        Deleted records go to the org's Recycle Bin (emptied after 15 days, or by an admin)."""
        if len(ids) > 200:
            raise ValueError("sObject Collections take at most 200 records")
        path = self.data_path("composite/sobjects")
        return self.request("DELETE", path, params={"ids": ",".join(ids), "allOrNone": "false"}).json()

    def composite(self, subrequests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """One Composite call (≤25 subrequests, ≤5 of them collections or queries), allOrNone false.

        Returns each subrequest's result by referenceId: `{"httpStatusCode", "body"}`.
        """
        if not subrequests:
            return {}
        for sub in subrequests:
            sub["url"] = self.data_path(sub["url"]) if not sub["url"].startswith("/services/") else sub["url"]
        body = {"allOrNone": False, "collateSubrequests": False, "compositeRequest": subrequests}
        answer = self.request("POST", self.data_path("composite"), json=body).json()
        return {item["referenceId"]: item for item in answer["compositeResponse"]}
