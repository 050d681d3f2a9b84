"""Every stored response with its aggregate ledger, read page by page (for reaggregation)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from npsloop.aws import client
from npsloop.models import CanonicalResponse


@dataclass(frozen=True)
class LedgerRow:
    response: CanonicalResponse
    revision: int
    received_at: datetime
    counted_revision: int | None
    counted: dict | None  # the contribution the response is counted with, None when not counted yet
    attributes: frozenset[str]  # which other attributes the item has (e.g. period_month)


class LedgerScan:
    def __init__(self, table: str, ledger: str, dynamodb: Any | None = None):
        self.table, self.ledger = table, ledger
        self._ddb = dynamodb

    @property
    def ddb(self) -> Any:
        return self._ddb or client("dynamodb")

    def count(self) -> int:
        """About how many items the table holds (DynamoDB updates this every six hours or so)."""
        return int(self.ddb.describe_table(TableName=self.table)["Table"].get("ItemCount", 0))

    def pages(self, page_size: int = 100) -> Iterator[list[LedgerRow]]:
        request: dict[str, Any] = {"TableName": self.table, "Limit": page_size}
        while True:
            page = self.ddb.scan(**request)
            yield [_row(item, self.ledger) for item in page["Items"] if "data" in item]
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def get(self, response_id: str) -> LedgerRow | None:
        item = self.ddb.get_item(TableName=self.table, Key={"response_id": {"S": response_id}},
                                 ConsistentRead=True).get("Item")  # fmt: skip
        return _row(item, self.ledger) if item and "data" in item else None


def _row(item: dict[str, Any], ledger: str) -> LedgerRow:
    counted = item.get(ledger, {}).get("S")
    revision = item.get(f"{ledger}_revision", {}).get("N")
    return LedgerRow(
        response=CanonicalResponse.model_validate(json.loads(item["data"]["S"])),
        revision=int(item["revision"]["N"]),
        received_at=datetime.fromisoformat(item["received_at"]["S"].replace("Z", "+00:00")),
        counted_revision=int(revision) if revision else None,
        counted=json.loads(counted) if counted else None,
        attributes=frozenset(item),
    )
