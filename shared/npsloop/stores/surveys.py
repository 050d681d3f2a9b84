"""Survey invitations in the Notify table: the cooldown per address and touchpoint, and the clicks on answer links.

| pk                      | sk                     | what                                               |
|-------------------------|------------------------|----------------------------------------------------|
| `survey#<address hash>` | `<touchpoint>`         | when the last invitation was queued (the cooldown) |
| `survey#<address hash>` | `reminder#<survey id>` | a planned reminder: the invitation, when it is due |
| `clicks#<survey id>`    | `<time>#<nonce>`       | one GET of an answer link, with its score          |

The address is kept only as its hash (npsloop.stores.optouts.address_hash), except in a planned reminder, which must
hold the invitation to mail it again: it lives under the address's hash so `forget` (npsloop erase) finds it, and
the sparse index REMINDER_INDEX (`reminder_day` = its due date, `reminder_at` = its due time, set on reminder items
only) lets the hourly run read what is due with one Query per day. `expires_at` (the table's TTL) removes an item
once it no longer matters, and the cooldown check compares times itself, as TTL deletion may lag.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from npsloop.aws import TableStore, conditional_failed
from npsloop.stores.optouts import address_hash

NO_TOUCHPOINT = "*"
CLICK_DAYS = 1
REMINDER_INDEX = "RemindersDue"
REMINDER_LOOKBACK_DAYS = 7  # a reminder missed this long (the schedule was off) is dropped by TTL, never sent late


@dataclass(frozen=True)
class DueReminder:
    address_hash: str
    survey_id: str
    invitation: str  # the Invitation's JSON, as it was queued


@dataclass(frozen=True)
class Click:
    at: datetime
    score: int


class SurveyLedger(TableStore):
    # --- the cooldown ---------------------------------------------------------------------------------------
    def claim(self, address: str, touchpoint: str | None, survey_id: str, cooldown: timedelta,
              now: datetime | None = None) -> bool:  # fmt: skip
        """Take the address's invitation slot for the touchpoint: False when one was queued within the cooldown.

        One conditional write, so two concurrent sends for the same address cannot both win."""
        now = now or datetime.now(UTC)
        return self.write_if(
            "put_item",
            Item={"pk": {"S": f"survey#{address_hash(address)}"}, "sk": {"S": touchpoint or NO_TOUCHPOINT},
                  "queued_at": {"S": now.isoformat()}, "survey_id": {"S": survey_id},
                  "expires_at": {"N": str(int((now + cooldown).timestamp()))}},
            ConditionExpression="attribute_not_exists(queued_at) OR queued_at <= :cutoff",
            ExpressionAttributeValues={":cutoff": {"S": (now - cooldown).isoformat()}},
        )  # fmt: skip

    def release(self, address: str, touchpoint: str | None, survey_id: str) -> None:
        """Give the slot back when the invitation could not be queued."""
        try:
            self.ddb.delete_item(
                TableName=self.table,
                Key={"pk": {"S": f"survey#{address_hash(address)}"}, "sk": {"S": touchpoint or NO_TOUCHPOINT}},
                ConditionExpression="survey_id = :sid", ExpressionAttributeValues={":sid": {"S": survey_id}},
            )  # fmt: skip
        except Exception as exc:
            if not conditional_failed(exc):
                raise

    # --- reminders ------------------------------------------------------------------------------------------
    def plan_reminder(self, address: str, survey_id: str, invitation: str, due: datetime) -> None:
        """Note the invitation's reminder, due at `due`; a redelivered invitation does not move it."""
        try:
            self.ddb.put_item(
                TableName=self.table,
                Item={"pk": {"S": f"survey#{address_hash(address)}"}, "sk": {"S": f"reminder#{survey_id}"},
                      "invitation": {"S": invitation}, "reminder_day": {"S": due.astimezone(UTC).date().isoformat()},
                      "reminder_at": {"S": due.astimezone(UTC).isoformat()},
                      "expires_at": {"N": str(int((due + timedelta(days=REMINDER_LOOKBACK_DAYS)).timestamp()))}},
                ConditionExpression="attribute_not_exists(pk)",
            )  # fmt: skip
        except Exception as exc:
            if not conditional_failed(exc):
                raise

    def due_reminders(self, now: datetime) -> list[DueReminder]:
        """The reminders due at `now` (and those of the last REMINDER_LOOKBACK_DAYS days not yet handled), oldest
        first: one Query of the sparse index per day."""
        now = now.astimezone(UTC)
        out: list[DueReminder] = []
        for back in range(REMINDER_LOOKBACK_DAYS, -1, -1):
            day = (now - timedelta(days=back)).date().isoformat()
            request: dict[str, Any] = {
                "TableName": self.table, "IndexName": REMINDER_INDEX,
                "KeyConditionExpression": "reminder_day = :day AND reminder_at <= :now",
                "ExpressionAttributeValues": {":day": {"S": day}, ":now": {"S": now.isoformat()}}}  # fmt: skip
            while True:
                page = self.ddb.query(**request)
                out += [DueReminder(i["pk"]["S"].removeprefix("survey#"), i["sk"]["S"].removeprefix("reminder#"),
                                    i["invitation"]["S"]) for i in page.get("Items", [])]  # fmt: skip
                if "LastEvaluatedKey" not in page:
                    break
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return out

    def drop_reminder(self, reminder: DueReminder) -> None:
        """The reminder was queued, or is not wanted any more."""
        self.ddb.delete_item(TableName=self.table, Key={"pk": {"S": f"survey#{reminder.address_hash}"},
                                                        "sk": {"S": f"reminder#{reminder.survey_id}"}})  # fmt: skip

    def forget(self, address: str) -> int:
        """Delete every item kept under the address's hash (cooldowns, planned reminders); how many went."""
        request: dict[str, Any] = {"TableName": self.table, "KeyConditionExpression": "pk = :pk",
                                   "ProjectionExpression": "pk, sk",
                                   "ExpressionAttributeValues": {":pk": {"S": f"survey#{address_hash(address)}"}}}
        gone = 0
        while True:
            page = self.ddb.query(**request)
            for item in page.get("Items", []):
                self.ddb.delete_item(TableName=self.table, Key={"pk": item["pk"], "sk": item["sk"]})
                gone += 1
            if "LastEvaluatedKey" not in page:
                return gone
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # --- clicks on answer links -----------------------------------------------------------------------------
    def add_click(self, survey_id: str, click: Click) -> None:
        self.ddb.put_item(TableName=self.table, Item={
            "pk": {"S": f"clicks#{survey_id}"}, "sk": {"S": f"{click.at.isoformat()}#{secrets.token_hex(4)}"},
            "score": {"N": str(click.score)},
            "expires_at": {"N": str(int((click.at + timedelta(days=CLICK_DAYS)).timestamp()))}})  # fmt: skip

    def clicks(self, survey_id: str) -> list[Click]:
        """Every recent click on the invitation's links, oldest first."""
        out: list[Click] = []
        request: dict[str, Any] = {"TableName": self.table, "KeyConditionExpression": "pk = :pk",
                                   "ConsistentRead": True,
                                   "ExpressionAttributeValues": {":pk": {"S": f"clicks#{survey_id}"}}}  # fmt: skip
        while True:
            page = self.ddb.query(**request)
            out += [Click(datetime.fromisoformat(i["sk"]["S"].rsplit("#", 1)[0]), int(i["score"]["N"]))
                    for i in page.get("Items", [])]  # fmt: skip
            if "LastEvaluatedKey" not in page:
                return out
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
