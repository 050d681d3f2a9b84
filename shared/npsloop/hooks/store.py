"""The Hooks table: one item per subscription (target URL, event, its Standard Webhooks signing secret)."""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from npsloop.aws import client

CACHE_SECONDS = 30  # a new subscription gets events within half a minute on a warm notify container


@dataclass(frozen=True)
class Subscription:
    id: str
    target_url: str
    event: str
    secret: str  # "whsec_<base64>": shown once to the subscriber, used to sign each delivery
    created_at: str
    created_by: str  # the API key id, or "cli"


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class HookStore:
    def __init__(self, table: str, dynamodb: Any | None = None):
        self.table = table
        self._ddb = dynamodb
        self._cache: tuple[float, list[Subscription]] | None = None

    @property
    def ddb(self) -> Any:
        return self._ddb or client("dynamodb")

    def add(self, target_url: str, event: str, created_by: str) -> Subscription:
        sub = Subscription("sub_" + secrets.token_hex(8), target_url, event, new_secret(),
                           datetime.now(UTC).isoformat(), created_by)  # fmt: skip
        self.ddb.put_item(TableName=self.table, Item={k: {"S": v} for k, v in sub.__dict__.items()},
                          ConditionExpression="attribute_not_exists(id)")  # fmt: skip
        self._cache = None
        return sub

    def get(self, sub_id: str) -> Subscription | None:
        item = self.ddb.get_item(TableName=self.table, Key={"id": {"S": sub_id}}, ConsistentRead=True).get("Item")
        return _subscription(item) if item else None

    def delete(self, sub_id: str) -> bool:
        """Remove the subscription; False when there was none with that id."""
        result = self.ddb.delete_item(TableName=self.table, Key={"id": {"S": sub_id}}, ReturnValues="ALL_OLD")
        self._cache = None
        return bool(result.get("Attributes"))

    def list(self) -> list[Subscription]:
        pages = self.ddb.get_paginator("scan").paginate(TableName=self.table)
        return sorted((_subscription(i) for p in pages for i in p["Items"]), key=lambda s: s.created_at)

    def for_events(self, events: Iterable[str]) -> list[Subscription]:
        """Subscriptions to any of `events` (the list is cached for a few seconds per container)."""
        if self._cache is None or self._cache[0] < time.monotonic():
            self._cache = (time.monotonic() + CACHE_SECONDS, self.list())
        wanted = set(events)
        return [s for s in self._cache[1] if s.event in wanted]


def _subscription(item: dict[str, Any]) -> Subscription:
    return Subscription(**{name: item[name]["S"] for name in Subscription.__dataclass_fields__})
