"""Survey invitations in the Notify table: the cooldown per address and touchpoint, and the clicks on answer links.

| pk                                      | sk                  | what                                              |
|-----------------------------------------|---------------------|---------------------------------------------------|
| `survey#<address hash>`                 | `<touchpoint>`      | when the last invitation was queued (the cooldown) |
| `clicks#<survey id>`                    | `<time>#<nonce>`    | one GET of an answer link, with its score         |

The address is kept only as its hash (npsloop.stores.optouts.address_hash); `expires_at` (the table's TTL) removes
an item once it no longer matters, and the cooldown check compares times itself, as TTL deletion may lag.
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
        try:
            self.ddb.put_item(
                TableName=self.table,
                Item={"pk": {"S": f"survey#{address_hash(address)}"}, "sk": {"S": touchpoint or NO_TOUCHPOINT},
                      "queued_at": {"S": now.isoformat()}, "survey_id": {"S": survey_id},
                      "expires_at": {"N": str(int((now + cooldown).timestamp()))}},
                ConditionExpression="attribute_not_exists(queued_at) OR queued_at <= :cutoff",
                ExpressionAttributeValues={":cutoff": {"S": (now - cooldown).isoformat()}},
            )  # fmt: skip
        except Exception as exc:
            if conditional_failed(exc):
                return False
            raise
        return True

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
