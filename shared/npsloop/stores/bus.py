"""The npsloop EventBridge bus: publish past-tense facts about responses, in batches of ten."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from npsloop.aws import client
from npsloop.models import EVENT_SOURCE

ENTRIES_PER_CALL = 10  # PutEvents limit
ATTEMPTS = 3


class PublishError(Exception):
    """EventBridge kept refusing some entries."""


class EventBus:
    def __init__(self, bus_name: str, events: Any | None = None):
        self.bus_name = bus_name
        self._events = events

    @property
    def events(self) -> Any:
        return self._events or client("events")

    def publish(self, facts: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """Publish (detail-type, detail) pairs; entries EventBridge refuses are retried, then an error is raised."""
        entries = [
            {"Source": EVENT_SOURCE, "DetailType": kind, "Detail": json.dumps(detail), "EventBusName": self.bus_name}
            for kind, detail in facts
        ]
        for start in range(0, len(entries), ENTRIES_PER_CALL):
            pending = entries[start : start + ENTRIES_PER_CALL]
            for _ in range(ATTEMPTS):
                result = self.events.put_events(Entries=pending)
                if not result.get("FailedEntryCount"):
                    break
                pending = [e for e, r in zip(pending, result["Entries"], strict=True) if r.get("ErrorCode")]
            else:
                raise PublishError(f"EventBridge refused {len(pending)} entries after {ATTEMPTS} attempts")
