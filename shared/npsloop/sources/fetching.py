"""Reading a response from a survey tool's API, for the tools whose webhooks carry only ids."""

from __future__ import annotations

from typing import Any

from npsloop.errors import FetchError

TIMEOUT_SECONDS = 10


def get_json(url: str, headers: dict[str, str], what: str) -> dict[str, Any]:
    """GET a JSON object; anything else (network error, non-2xx, not JSON) is a FetchError to retry later.

    The message names the status only, never the body, which may carry personal data.
    """
    import requests

    try:
        answer = requests.get(url, headers=headers, timeout=TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        raise FetchError(f"{what}: {type(exc).__name__}") from None
    if answer.status_code >= 300:
        raise FetchError(f"{what}: HTTP {answer.status_code}")
    try:
        data = answer.json()
    except ValueError:
        raise FetchError(f"{what}: the answer is not JSON") from None
    if not isinstance(data, dict):
        raise FetchError(f"{what}: the answer is not a JSON object")
    return data
