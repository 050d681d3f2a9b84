"""The Notify table: what notify already did per response, each contact's last category and last thank-you, and
per-target rate buckets. One table, partitioned by what a key starts with:

| pk                        | sk                   | what                                                    |
|---------------------------|----------------------|---------------------------------------------------------|
| `done#<response id>`      | `done`               | `actions`: alerts, follow-up, hook fan-outs already done |
| `contact#<contact key>`   | `state`              | last category, its response, the category before it     |
| `contact#<contact key>`   | `followup`           | when the last thank-you went out (the cooldown)         |
| `rate#<target hash>`      | `<unix second>`      | deliveries to one target in that second                 |

An action that must not run twice claims its `done#` item first (`claim_<action>`: until when one container holds
it). Items that need not live for ever carry `expires_at` (the table's TTL attribute). A batch reads what it needs with
BatchGetItem and writes contact states with BatchWriteItem: a few calls per batch, not per response. (Zapier's
recent responses are read from the Responses table's ByMonth index: no response costs a feed write.) `forget`
deletes what concerns one address (`npsloop erase`); `done#` items hold only response ids and stay.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from npsloop.aws import TableStore, conditional_failed

DONE_DAYS = 30


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


class NotifyState(TableStore):
    # --- what is done per response --------------------------------------------------------------------------
    def done(self, response_ids: Iterable[str]) -> dict[str, set[str]]:
        """What was done already for each response (a missing id has done nothing)."""
        if isinstance(response_ids, str):
            raise TypeError("done() takes response ids, not one id")
        items = self._get_many([_key(f"done#{rid}", "done") for rid in dict.fromkeys(response_ids)])
        return {item["pk"]["S"].removeprefix("done#"): set(item.get("actions", {}).get("SS", [])) for item in items}

    def mark_done(self, response_id: str, *actions: str) -> None:
        self.ddb.update_item(TableName=self.table, Key=_key(f"done#{response_id}", "done"),
                             UpdateExpression="ADD actions :actions SET expires_at = :exp",
                             ExpressionAttributeValues={":actions": {"SS": list(actions)},
                                                        ":exp": {"N": str(int(time.time() + DONE_DAYS * 86400))}})

    def claim(self, response_id: str, action: str, hold: timedelta, now: datetime | None = None) -> str:
        """Take `action` for the response before doing it, so two containers cannot both do it: `claimed`, `done`
        (it was done already) or `held` (another holds it now; try later). A claim lapses after `hold`, so a crash
        between the claim and mark_done delays the action instead of losing it."""
        now = now or datetime.now(UTC)
        names = {"#claim": f"claim_{action}"}
        try:
            self.ddb.update_item(
                TableName=self.table, Key=_key(f"done#{response_id}", "done"),
                UpdateExpression="SET #claim = :until, expires_at = if_not_exists(expires_at, :exp)",
                ConditionExpression="(attribute_not_exists(actions) OR NOT contains(actions, :action)) AND "
                                    "(attribute_not_exists(#claim) OR #claim <= :now)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={":until": {"S": (now + hold).isoformat()}, ":now": {"S": now.isoformat()},
                                           ":action": {"S": action},
                                           ":exp": {"N": str(int(now.timestamp() + DONE_DAYS * 86400))}},
            )  # fmt: skip
        except Exception as exc:
            if not conditional_failed(exc):
                raise
            return "done" if action in self.done([response_id]).get(response_id, set()) else "held"
        return "claimed"

    def release(self, response_id: str, action: str) -> None:
        """Give a claim back (the action failed and may be tried again at once)."""
        self.ddb.update_item(TableName=self.table, Key=_key(f"done#{response_id}", "done"),
                             UpdateExpression="REMOVE #claim", ExpressionAttributeNames={"#claim": f"claim_{action}"})

    # --- contacts -------------------------------------------------------------------------------------------
    def observe(self, answers: Sequence[tuple[str, str, str, datetime]]) -> list[Observed]:
        """Record each contact's latest category from (contact key, response id, category, time) in batch order;
        returns for each what the contact's category was before it (a retried response sees the same)."""
        keys = [_key(f"contact#{key}", "state") for key in dict.fromkeys(a[0] for a in answers)]
        state = {item["pk"]["S"].removeprefix("contact#"): {k: v.get("S") for k, v in item.items()}
                 for item in self._get_many(keys)}  # fmt: skip
        out, changed = [], {}
        for key, response_id, category, at in answers:
            stored = state.get(key, {})
            previous = stored.get("previous") if stored.get("response_id") == response_id else stored.get("category")
            if stored.get("at") and stored["at"] > at.isoformat() and stored.get("response_id") != response_id:
                out.append(Observed(previous=None))  # an older answer arriving late says nothing about a change
                continue
            state[key] = changed[key] = {"pk": f"contact#{key}", "sk": "state", "response_id": response_id,
                                         "category": category, "at": at.isoformat(),
                                         **({"previous": previous} if previous else {})}  # fmt: skip
            out.append(Observed(previous=previous))
        self._put_many([{k: {"S": v} for k, v in item.items() if v is not None} for item in changed.values()])
        return out

    def claim_followup(self, key: str, response_id: str, cooldown: timedelta, now: datetime | None = None) -> bool:
        """Take the contact's thank-you slot: False when one went out within the cooldown (for another response)."""
        now = now or datetime.now(UTC)
        return self.write_if(
            "update_item", Key=_key(f"contact#{key}", "followup"),
            UpdateExpression="SET sent_at = :now, response_id = :rid",
            ConditionExpression="attribute_not_exists(sent_at) OR sent_at < :cutoff OR response_id = :rid",
            ExpressionAttributeValues={":now": {"S": now.isoformat()}, ":rid": {"S": response_id},
                                       ":cutoff": {"S": (now - cooldown).isoformat()}},
        )  # fmt: skip

    def release_followup(self, key: str, response_id: str) -> None:
        """Give the slot back when the email could not be sent."""
        try:
            self.ddb.delete_item(TableName=self.table, Key=_key(f"contact#{key}", "followup"),
                                 ConditionExpression="response_id = :rid",
                                 ExpressionAttributeValues={":rid": {"S": response_id}})  # fmt: skip
        except Exception as exc:
            if not conditional_failed(exc):
                raise

    # --- erasure -----------------------------------------------------------------------------------------------
    def forget(self, email: str) -> int:
        """Delete what this table holds about an address: the contact's state and thank-you cooldown (keyed by its
        hash). Returns how many items went."""
        gone = 0
        for sk in ("state", "followup"):
            old = self.ddb.delete_item(TableName=self.table, Key=_key(f"contact#{contact_key(email, None)}", sk),
                                       ReturnValues="ALL_OLD")  # fmt: skip
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


    # --- batched reads and writes -----------------------------------------------------------------------------
    def _get_many(self, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Eventually consistent (half the read units): what notify reads was written a batch or more earlier, and a
        message comes back only after its visibility timeout."""
        return self.batch_get(keys)

    def _put_many(self, items: list[dict[str, Any]]) -> None:
        items = list({(i["pk"]["S"], i["sk"]["S"]): i for i in items}.values())  # one request may not repeat a key
        for start in range(0, len(items), 25):
            puts = [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]
            request: dict[str, Any] | None = {self.table: puts}
            while request:
                request = self.ddb.batch_write_item(RequestItems=request).get("UnprocessedItems") or None


def _key(pk: str, sk: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}
