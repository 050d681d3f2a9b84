"""Calls to APIs outside AWS (survey tools, Salesforce, the Slack and Teams alert webhooks), as `requests` made them,
with urllib3.

botocore has imported urllib3 in every function: `requests` on top of it is 15 to 25 ms of a cold start. The
container's one pool calls as a `requests.Session` did: certifi's CA bundle, no retry (a failed call comes back through
its queue, later), redirects followed (30 at most; the Authorization header is dropped on one to another host), a gzip
or deflate body decoded. Each call names its own timeouts. Webhook deliveries (npsloop.hooks.delivery) connect to an
address checked beforehand, with their own pool.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlencode

import certifi
import urllib3

MAX_REDIRECTS = 30
ACCEPT = {"Accept": "*/*", "Accept-Encoding": "gzip, deflate"}
Error = urllib3.exceptions.HTTPError  # what a call that got no answer raises


@cache
def pool() -> urllib3.PoolManager:
    """The container's one pool (10 connections a host, as a requests.Session kept)."""
    retries = urllib3.Retry(total=None, connect=0, read=False, status=0, other=0, redirect=MAX_REDIRECTS,
                            respect_retry_after_header=False)  # fmt: skip
    return urllib3.PoolManager(maxsize=10, ca_certs=certifi.where(), retries=retries)


@dataclass(frozen=True)
class Answer:
    """An HTTP answer, read in full: the names a requests.Response gave them."""

    status_code: int
    reason: str
    headers: Mapping[str, str]  # case-insensitive
    content: bytes

    def json(self) -> Any:
        """The body as JSON: in the charset its Content-Type names, else UTF-8, -16 or -32; ValueError if not JSON."""
        return json.loads(self.text if self._charset() else self.content)

    @property
    def text(self) -> str:
        """The body in the charset its Content-Type names (UTF-8 if none, or one Python does not know)."""
        try:
            return self.content.decode(self._charset() or "utf-8", errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")

    def _charset(self) -> str | None:
        params = self.headers.get("Content-Type", "").split(";")[1:]
        return next((p.split("=", 1)[1].strip(' "') for p in params if p.strip().lower().startswith("charset=")), None)


def send(method: str, url: str, *, timeout: urllib3.Timeout, headers: Mapping[str, str] | None = None,
         params: Mapping[str, str] | None = None, json_body: Any = None, form: Mapping[str, str] | None = None,
         body: bytes | None = None, redirects: bool = True) -> Answer:  # fmt: skip
    """One call: `params` go in the query string; a JSON body, a form or raw bytes (with the caller's Content-Type);
    `redirects=False` answers a redirect as it is instead of following it.

    Raises `Error` when no answer came (refused, timed out, too many redirects); any status is an Answer.
    """
    sent = dict(ACCEPT)
    if params:
        url += ("&" if "?" in url else "?") + urlencode(params)
    if json_body is not None:
        body, sent["Content-Type"] = json.dumps(json_body, allow_nan=False).encode(), "application/json"
    elif form is not None:
        body, sent["Content-Type"] = urlencode(form).encode(), "application/x-www-form-urlencoded"
    answer = pool().request(method, url, headers=sent | dict(headers or {}), body=body, timeout=timeout,
                            redirect=redirects)  # fmt: skip
    return Answer(answer.status, answer.reason or "", answer.headers, answer.data)


def failure(exc: urllib3.exceptions.HTTPError) -> str:
    """What went wrong, by its kind only (the cause a MaxRetryError wraps): never a URL, which may carry an id."""
    cause = exc.reason if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason else exc
    return type(cause).__name__
