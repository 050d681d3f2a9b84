"""Test controls of the stand-in: API-call counters and the queue of injected faults."""

import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

_STATUS_FOR_CODE = {"INVALID_SESSION_ID": 401, "REQUEST_LIMIT_EXCEEDED": 403, "SERVER_UNAVAILABLE": 503}
_CODE_FOR_STATUS = {
    401: "INVALID_SESSION_ID",
    403: "REQUEST_LIMIT_EXCEEDED",
    502: "SERVER_UNAVAILABLE",
    503: "SERVER_UNAVAILABLE",
}
_MESSAGES = {
    "INVALID_SESSION_ID": "Session expired or invalid",
    "REQUEST_LIMIT_EXCEEDED": "TotalRequests Limit exceeded.",
    "SERVER_UNAVAILABLE": "Server too busy",
    "UNABLE_TO_LOCK_ROW": "unable to obtain exclusive access to this record",
}


class Stats:
    """API calls counted the way Salesforce counts them, by kind of call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def count(self, kind: str) -> None:
        with self._lock:
            self._counts[kind] += 1

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"total": sum(self._counts.values()), "by_kind": dict(self._counts)}

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


@dataclass
class Fault:
    """An error answered to the next data API requests, for `count` requests or for `seconds` once first used."""

    status: int
    error_code: str
    message: str
    count: int | None = None
    seconds: float | None = None
    started: float | None = None

    @classmethod
    def from_json(cls, data: Any) -> "Fault":
        """Build a fault from the control request body; raises ValueError when it makes no sense."""
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        status, code, message = data.get("status"), data.get("errorCode"), data.get("message")
        count, seconds = data.get("count"), data.get("seconds")
        if status is None and code is None:
            raise ValueError("give status and/or errorCode")
        status = status if status is not None else _STATUS_FOR_CODE.get(code, 400)
        code = code or _CODE_FOR_STATUS.get(status, "UNKNOWN_EXCEPTION")
        if not (isinstance(status, int) and 400 <= status <= 599 and isinstance(code, str)):
            raise ValueError("status must be an HTTP error status and errorCode a string")
        if count is not None and seconds is not None:
            raise ValueError("give count or seconds, not both")
        if seconds is None and count is None:
            count = 1
        if count is not None and not (isinstance(count, int) and count > 0):
            raise ValueError("count must be a positive integer")
        if seconds is not None and not (isinstance(seconds, int | float) and seconds > 0):
            raise ValueError("seconds must be a positive number")
        message = message if isinstance(message, str) else _MESSAGES.get(code, "An unexpected error occurred.")
        return cls(status, code, message, count, seconds)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "errorCode": self.error_code, "message": self.message}
        out.update({"count": self.count} if self.count is not None else {"seconds": self.seconds})
        return out


class FaultQueue:
    """Faults in the order posted; the one at the head applies until its count or time is used up."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def take(self) -> Fault | None:
        """The fault the current request gets, if any (using up one of its count)."""
        now = time.monotonic()
        with self._lock:
            while self._faults:
                head = self._faults[0]
                if head.count is not None:
                    head.count -= 1
                    if head.count == 0:
                        self._faults.pop(0)
                    return head
                head.started = now if head.started is None else head.started
                if now - head.started < (head.seconds or 0):
                    return head
                self._faults.pop(0)
            return None

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.as_json() for fault in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
