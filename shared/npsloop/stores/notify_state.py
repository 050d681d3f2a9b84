"""The Notify table: what notify already did per response, each contact's last category and last thank-you, the
recent-responses feed for Zapier, and per-target rate buckets. One table, partitioned by what a key starts with:

| pk                        | sk                   | what                                                    |
|---------------------------|----------------------|---------------------------------------------------------|
| `done#<response id>`      | `<action>`           | an alert, follow-up or hook fan-out already done        |
| `contact#<contact key>`   | `state`              | last category, its response, the category before it     |
| `contact#<contact key>`   | `followup`           | when the last thank-you went out (the cooldown)         |
| `feed#<event>`            | `<time>#<response>`  | the flat payload of a recent response, newest first     |
| `rate#<target hash>`      | `<unix second>`      | deliveries to one target in that second                 |

Items that need not live for ever carry `expires_at` (the table's TTL attribute). `forget` deletes what concerns one
address (`npsloop erase`); `done#` items hold only response ids and stay.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from npsloop.aws import client, conditional_failed

DONE_DAYS = 30
FEED_DAYS = 30
FEED_MAX = 100


def contact_key(email: str | None, contact_id: str | None) -> str | None:
    """Whom a response is from: the hashed lower-cased address, else the Salesforce Contact id; None if neither."""
    if email:
        return "email:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()
    if contact_id:
        return "sf:" + contact_id[:15]
    return None


@dataclass(frozen=True)
class Observed:
    previous: str | None  # the contact's category before this response, if any


class NotifyState:
    def __init__(self, table: str, dynamodb: Any | None = None):
        self.table = table
        self._ddb = dynamodb

    @property
    def ddb(self) -> Any:
        return self._ddb or client("dynamodb")

    # --- what is done per response --------------------------------------------------------------------------
    def done(self, response_id: str) -> set[str]:
        result = self.ddb.query(TableName=self.table, KeyConditionExpression="pk = :pk", ConsistentRead=True,
                                ExpressionAttributeValues={":pk": {"S": f"done#{response_id}"}})  # fmt: skip
        return {item["sk"]["S"] for item in result.get("Items", [])}

    def mark_done(self, response_id: str, action: str) -> None:
        expires = int(time.time() + DONE_DAYS * 86400)
        self.ddb.put_item(TableName=self.table, Item={"pk": {"S": f"done#{response_id}"}, "sk": {"S": action},
                                                      "expires_at": {"N": str(expires)}})  # fmt: skip

    # --- contacts -------------------------------------------------------------------------------------------
    def observe(self, key: str, response_id: str, category: str, at: datetime) -> Observed:
        """Record the contact's latest category; returns what it was before this response (retries see the same)."""
        item = self.ddb.get_item(TableName=self.table, Key=_key(f"contact#{key}", "state"),
                                 ConsistentRead=True).get("Item") or {}  # fmt: skip
        stored = {k: v.get("S") for k, v in item.items()}
        if stored.get("response_id") == response_id:
            previous = stored.get("previous")
        else:
            previous = stored.get("category")
        if stored.get("at") and stored["at"] > at.isoformat() and stored.get("response_id") != response_id:
            return Observed(previous=None)  # an older answer arriving late says nothing about a change
        values = {"pk": {"S": f"contact#{key}"}, "sk": {"S": "state"}, "response_id": {"S": response_id},
                  "category": {"S": category}, "at": {"S": at.isoformat()}}  # fmt: skip
        if previous:
            values["previous"] = {"S": previous}
        self.ddb.put_item(TableName=self.table, Item=values)
        return Observed(previous=previous)

    def claim_followup(self, key: str, response_id: str, cooldown: timedelta, now: datetime | None = None) -> bool:
        """Take the contact's thank-you slot: False when one went out within the cooldown (for another response)."""
        now = now or datetime.now(UTC)
        try:
            self.ddb.update_item(
                TableName=self.table, Key=_key(f"contact#{key}", "followup"),
                UpdateExpression="SET sent_at = :now, response_id = :rid",
                ConditionExpression="attribute_not_exists(sent_at) OR sent_at < :cutoff OR response_id = :rid",
                ExpressionAttributeValues={":now": {"S": now.isoformat()}, ":rid": {"S": response_id},
                                           ":cutoff": {"S": (now - cooldown).isoformat()}},
            )  # fmt: skip
        except Exception as exc:
            if conditional_failed(exc):
                return False
            raise
        return True

    def release_followup(self, key: str, response_id: str) -> None:
        """Give the slot back when the email could not be sent."""
        try:
            self.ddb.delete_item(TableName=self.table, Key=_key(f"contact#{key}", "followup"),
                                 ConditionExpression="response_id = :rid",
                                 ExpressionAttributeValues={":rid": {"S": response_id}})  # fmt: skip
        except Exception as exc:
            if not conditional_failed(exc):
                raise

    # --- the feed of recent responses, per event --------------------------------------------------------------
    def add_to_feed(self, events: list[str], at: datetime, payload: dict[str, Any]) -> None:
        expires = int(time.time() + FEED_DAYS * 86400)
        for event in events:
            self.ddb.put_item(TableName=self.table, Item={
                "pk": {"S": f"feed#{event}"}, "sk": {"S": f"{at.isoformat()}#{payload['id']}"},
                "payload": {"S": json.dumps({**payload, "event": event})},
                "expires_at": {"N": str(expires)}})  # fmt: skip

    def feed(self, event: str, limit: int = FEED_MAX) -> list[dict[str, Any]]:
        """The newest `limit` payloads for `event`, newest first; expired items are skipped."""
        result = self.ddb.query(TableName=self.table, KeyConditionExpression="pk = :pk", ScanIndexForward=False,
                                Limit=min(limit, FEED_MAX) * 2,
                                ExpressionAttributeValues={":pk": {"S": f"feed#{event}"}})  # fmt: skip
        now = time.time()
        items = [i for i in result.get("Items", []) if int(i.get("expires_at", {}).get("N", "0")) > now]
        return [json.loads(i["payload"]["S"]) for i in items[:limit]]

    # --- erasure -----------------------------------------------------------------------------------------------
    def forget(self, email: str, events: Iterable[str]) -> int:
        """Delete what this table holds about an address: the contact's state and thank-you cooldown (keyed by its
        hash) and every feed entry of `events` whose payload names it. Returns how many items went."""
        keys = [_key(f"contact#{contact_key(email, None)}", sk) for sk in ("state", "followup")]
        needle = email.strip().lower()
        for event in events:
            request: dict[str, Any] = {"TableName": self.table, "KeyConditionExpression": "pk = :pk",
                                       "ExpressionAttributeValues": {":pk": {"S": f"feed#{event}"}}}  # fmt: skip
            while True:
                page = self.ddb.query(**request)
                keys += [_key(i["pk"]["S"], i["sk"]["S"]) for i in page["Items"] if needle in i["payload"]["S"].lower()]
                if "LastEvaluatedKey" not in page:
                    break
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        gone = 0
        for key in keys:
            old = self.ddb.delete_item(TableName=self.table, Key=key, ReturnValues="ALL_OLD")
            gone += 1 if old.get("Attributes") else 0
        return gone

    # --- rate buckets ---------------------------------------------------------------------------------------
    def take(self, target: str, per_second: int, now: float | None = None) -> bool:
        """One delivery to `target` in the current second, if fewer than `per_second` went out in it already."""
        second = int(now if now is not None else time.time())
        try:
            self.ddb.update_item(
                TableName=self.table,
                Key=_key(f"rate#{hashlib.sha256(target.encode()).hexdigest()[:32]}", str(second)),
                UpdateExpression="ADD n :one SET expires_at = :exp",
                ConditionExpression="attribute_not_exists(n) OR n < :limit",
                ExpressionAttributeValues={":one": {"N": "1"}, ":limit": {"N": str(per_second)},
                                           ":exp": {"N": str(second + 120)}},
            )  # fmt: skip
        except Exception as exc:
            if conditional_failed(exc):
                return False
            raise
        return True


def _key(pk: str, sk: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}
