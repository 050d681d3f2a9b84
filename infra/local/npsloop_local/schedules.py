"""The template's Schedule/ScheduleV2 events on the local stack: a timer thread per rate() schedule hands its function
the event EventBridge sends, and `POST /__local/schedules/{function}` (local only, never deployed) fires one at once
with any `time`, so a test can run the hourly reminder "as if it were N days later" without waiting."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from npsloop_local.template import ACCOUNT, REGION, Function, Route
from npsloop_local.workers import InvocationError

ADMIN_ROUTE = Route("POST", "/__local/schedules/{function}")


def scheduled_event(function: str, schedule: str, at: datetime) -> dict[str, Any]:
    """What an EventBridge schedule rule hands its target."""
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
        "account": ACCOUNT, "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{function}{schedule}"], "detail": {},
    }  # fmt: skip


class ScheduleTimer(threading.Thread):
    """Fires one rate() schedule every period (the first one period after the start, as EventBridge does)."""

    def __init__(self, fn: Function, schedule: str, seconds: int, invoke: Callable[[dict[str, Any]], Any]):
        super().__init__(name=f"schedule-{fn.logical_id}", daemon=True)
        self.fn, self.schedule, self.seconds, self.invoke = fn, schedule, seconds, invoke
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.seconds):
            try:
                self.invoke(scheduled_event(self.fn.logical_id, self.schedule, datetime.now(UTC)))
            except InvocationError as exc:  # EventBridge retries; here the next period runs again
                print(f"[{self.fn.logical_id}] scheduled run failed: {exc}", flush=True)

    def stop(self) -> None:
        self.stopping.set()
        self.join(15)


def admin_invoke(functions: dict[str, tuple[Function, Callable[[dict[str, Any]], Any]]]
                 ) -> Callable[[dict[str, Any]], dict[str, Any]]:  # fmt: skip
    """The handler of ADMIN_ROUTE: body `{"time": "<ISO 8601>"}` (optional, default now) fires the function's first
    schedule with that time and answers what the function returned."""

    def reply(status: int, body: dict[str, Any]) -> dict[str, Any]:
        return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}

    def fire(event: dict[str, Any]) -> dict[str, Any]:
        name = (event.get("pathParameters") or {}).get("function", "")
        if name not in functions:
            return reply(404, {"message": f"no function {name!r} has a schedule; these do: {sorted(functions)}"})
        fn, invoke = functions[name]
        try:
            given = json.loads(event.get("body") or "{}")
            at = datetime.fromisoformat(given["time"]) if given.get("time") else datetime.now(UTC)
        except (ValueError, TypeError, AttributeError) as exc:
            return reply(400, {"message": f'the body must be {{"time": "<ISO 8601 date and time>"}}: {exc}'})
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        try:
            result = invoke(scheduled_event(name, fn.schedules[0].name, at))
        except InvocationError as exc:
            return reply(502, {"message": f"{name} failed: {exc}"})
        return reply(200, {"function": name, "time": scheduled_event(name, "", at)["time"], "result": result})

    return fire
