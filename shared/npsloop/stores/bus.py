"""The npsloop EventBridge bus: publish past-tense facts about responses.

EventBridge bills each entry per 64 KB chunk and its queue targets receive one message per entry, so facts about
many responses go out as one entry (`publish_batched`: detail `{"version": "1", "responses": [...]}`), filled up to
one billing chunk; a PutEvents call carries up to ten entries and 256 KB.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from npsloop.aws import client
from npsloop.models import BATCH_KEY, EVENT_SOURCE, SCHEMA_VERSION

ENTRIES_PER_CALL = 10  # PutEvents limit
CALL_BYTES = 240_000  # PutEvents takes 256 KB per call; the margin covers each entry's own fields
ENTRY_BYTES = 60_000  # a batched entry's detail stays within one 64 KB billing chunk
ENTRY_RESPONSES = 40  # and holds at most this many: the sync takes five messages a batch (template.yaml), 200 records
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
        self._put([(kind, json.dumps(detail)) for kind, detail in facts])

    def publish_batched(self, kind: str, details: Sequence[dict[str, Any]]) -> None:
        """Publish facts of one kind about many responses in as few entries as fit one billing chunk (and
        ENTRY_RESPONSES) each."""
        head, tail = f'{{"version": "{SCHEMA_VERSION}", "{BATCH_KEY}": [', "]}"
        groups: list[list[str]] = []
        size = 0
        for detail in details:
            text = json.dumps(detail)
            if not groups or size + 2 + len(text) > ENTRY_BYTES or len(groups[-1]) == ENTRY_RESPONSES:
                groups.append([])
                size = len(head) + len(tail) - 2  # the first detail has no separator
            groups[-1].append(text)
            size += 2 + len(text)
        self._put([(kind, head + ", ".join(g) + tail) for g in groups])

    def _put(self, facts: Sequence[tuple[str, str]]) -> None:
        entries = [{"Source": EVENT_SOURCE, "DetailType": kind, "Detail": detail, "EventBusName": self.bus_name}
                   for kind, detail in facts]  # fmt: skip
        for pending in _calls(entries):
            for _ in range(ATTEMPTS):
                result = self.events.put_events(Entries=pending)
                if not result.get("FailedEntryCount"):
                    break
                pending = [e for e, r in zip(pending, result["Entries"], strict=True) if r.get("ErrorCode")]
            else:
                raise PublishError(f"EventBridge refused {len(pending)} entries after {ATTEMPTS} attempts")


def _calls(entries: list[dict[str, str]]) -> list[list[dict[str, str]]]:
    """The entries in PutEvents calls of at most ten entries and CALL_BYTES."""
    calls: list[list[dict[str, str]]] = []
    size = 0
    for entry in entries:
        length = len(entry["Detail"]) + len(entry["DetailType"])
        if not calls or size + length > CALL_BYTES or len(calls[-1]) == ENTRIES_PER_CALL:
            calls.append([])
            size = 0
        calls[-1].append(entry)
        size += length
    return calls
