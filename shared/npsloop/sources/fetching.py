"""Reading a response from a survey tool's API, for the tools whose webhooks carry only ids.

Through the container's pool (npsloop.outbound: urllib3, as `requests.get` fetched), 10 s to connect and 10 s to
read, JSON in UTF-8, -16 or -32.
"""

from __future__ import annotations

from typing import Any

import urllib3

from npsloop import outbound
from npsloop.errors import FetchError

TIMEOUT_SECONDS = 10
TIMEOUT = urllib3.Timeout(connect=TIMEOUT_SECONDS, read=TIMEOUT_SECONDS)


def get_json(url: str, headers: dict[str, str], what: str) -> dict[str, Any]:
    """GET a JSON object; anything else (network error, non-2xx, not JSON) is a FetchError to retry later.

    The message names the status or the error's kind only, never the body, which may carry personal data.
    """
    try:
        answer = outbound.send("GET", url, headers=headers, timeout=TIMEOUT)
    except outbound.Error as exc:
        raise FetchError(f"{what}: {outbound.failure(exc)}") from None
    if answer.status_code >= 300:
        raise FetchError(f"{what}: HTTP {answer.status_code}")
    try:
        data = answer.json()
    except ValueError:
        raise FetchError(f"{what}: the answer is not JSON") from None
    if not isinstance(data, dict):
        raise FetchError(f"{what}: the answer is not a JSON object")
    return data
