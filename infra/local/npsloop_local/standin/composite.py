"""Composite requests: checking the subrequests, resolving @{reference} values, and allOrNone outcomes."""

import re
from typing import Any

from .errors import ApiError

LIMIT = 25
_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])+)\}")
_HALTED = "The transaction was rolled back since another operation in the same transaction failed."


class Unresolved(Exception):
    """A reference to a subrequest that did not run, failed, or has no such value."""

    def __init__(self, reference_id: str, expression: str):
        super().__init__(expression)
        self.reference_id = reference_id
        self.expression = expression

    def body(self) -> list[dict]:
        message = (
            f"Invalid reference specified. No value for {self.expression} found in {self.reference_id}. "
            f"Provided referenceId ('{self.reference_id}') must be declared and succeed before it is used."
        )
        return [{"errorCode": "PROCESSING_HALTED", "message": message}]


def subrequests(body: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    """The subrequests and allOrNone flag of a composite body; raises ApiError when they are unusable."""
    requests, all_or_none = body.get("compositeRequest"), body.get("allOrNone", False)
    if not isinstance(requests, list) or not requests or not isinstance(all_or_none, bool):
        raise ApiError(400, "JSON_PARSER_ERROR", "compositeRequest must be a non-empty list of subrequests")
    if len(requests) > LIMIT:
        raise ApiError(400, "LIMIT_EXCEEDED", f"Composite requests can't have more than {LIMIT} subrequests")
    for sub in requests:
        if not (isinstance(sub, dict) and all(isinstance(sub.get(k), str) for k in ("method", "url", "referenceId"))):
            raise ApiError(400, "JSON_PARSER_ERROR", "Each subrequest needs method, url and referenceId")
    return requests, all_or_none


def resolve(value: Any, results: dict[str, Any]) -> Any:
    """Replace @{ref.path} references in a subrequest's url or body by values from earlier results."""
    if isinstance(value, dict):
        return {key: resolve(item, results) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, results) for item in value]
    if not isinstance(value, str):
        return value
    whole = _REFERENCE.fullmatch(value)
    if whole:
        return _value(whole, results)
    return _REFERENCE.sub(lambda match: str(_value(match, results)), value)


def _value(match: re.Match, results: dict[str, Any]) -> Any:
    reference_id, path = match.group(1), match.group(2)
    if reference_id not in results:
        raise Unresolved(reference_id, reference_id + path)
    value = results[reference_id]
    for name, index in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path):
        if name and isinstance(value, dict) and name in value:
            value = value[name]
        elif index and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            raise Unresolved(reference_id, reference_id + path)
    if value is None:
        raise Unresolved(reference_id, reference_id + path)
    return value


def failed(status: int, body: Any) -> bool:
    """Does this result make an allOrNone composite roll back: an HTTP error or a failed collection item?"""
    return status >= 400 or (
        isinstance(body, list) and any(isinstance(r, dict) and r.get("success") is False for r in body)
    )


def item(reference_id: str, status: int, body: Any, headers: dict[str, str]) -> dict[str, Any]:
    return {"body": body, "httpHeaders": headers, "httpStatusCode": status, "referenceId": reference_id}


def halted(reference_id: str) -> dict[str, Any]:
    """The result of a subrequest rolled back or skipped because another one failed."""
    return item(reference_id, 400, [{"errorCode": "PROCESSING_HALTED", "message": _HALTED}], {})
