"""Reading a response from a survey tool's API, for the tools whose webhooks carry only ids.

With urllib3, which botocore has imported in every function that fetches: `requests` on top of it is 15 to 25 ms of
a cold start. It fetches as `requests.get` did: certifi's CA bundle, 10 s to connect and 10 s to read, no retry (a
failed fetch comes back through its queue, later), redirects followed (30 at most; the Authorization header is
dropped on one to another host), a gzip or deflate body decoded, JSON in UTF-8, -16 or -32.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import certifi
import urllib3

from npsloop.errors import FetchError

TIMEOUT_SECONDS = 10
ACCEPT = {"Accept": "*/*", "Accept-Encoding": "gzip, deflate"}


@cache
def pool() -> urllib3.PoolManager:
    """The container's one pool (requests.get opened one for each call)."""
    retries = urllib3.Retry(total=None, connect=0, read=False, status=0, other=0, redirect=30,
                            respect_retry_after_header=False)  # fmt: skip
    timeout = urllib3.Timeout(connect=TIMEOUT_SECONDS, read=TIMEOUT_SECONDS)
    return urllib3.PoolManager(ca_certs=certifi.where(), retries=retries, timeout=timeout)


def get_json(url: str, headers: dict[str, str], what: str) -> dict[str, Any]:
    """GET a JSON object; anything else (network error, non-2xx, not JSON) is a FetchError to retry later.

    The message names the status or the error's kind only, never the body, which may carry personal data.
    """
    try:
        answer = pool().request("GET", url, headers=ACCEPT | headers)
    except urllib3.exceptions.HTTPError as exc:
        cause = exc.reason if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason else exc
        raise FetchError(f"{what}: {type(cause).__name__}") from None
    if answer.status >= 300:
        raise FetchError(f"{what}: HTTP {answer.status}")
    try:
        data = json.loads(answer.data)
    except ValueError:
        raise FetchError(f"{what}: the answer is not JSON") from None
    if not isinstance(data, dict):
        raise FetchError(f"{what}: the answer is not a JSON object")
    return data
