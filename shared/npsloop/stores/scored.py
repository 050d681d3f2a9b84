"""Scored responses by the month and time they count at (the Responses table's ByMonth index): exports and the
dashboard's latest comments read them a page at a time.

The index holds keys only: every write of a response would otherwise be written to the index again (a second
write unit per KB), while these readers are few; a page reads its items from the table with BatchGetItem."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from npsloop.aws import TableStore
from npsloop.models import CanonicalResponse

INDEX = "ByMonth"


@dataclass(frozen=True)
class ScoredRow:
    response: CanonicalResponse
    category: str
    period_at: str
    themes: tuple[str, ...]
    sentiment: str | None
    revision: int = 1
    received_at: str = ""
    historical: bool = False


class ScoredResponses(TableStore):
    def page(self, month: str, first_at: str, last_at: str, *, newest_first: bool = False, limit: int = 500,
             start: dict | None = None) -> tuple[list[ScoredRow], dict | None]:  # fmt: skip
        """Up to `limit` responses of `month` counted at a time in [first_at, last_at], and where the next page
        starts (None: the month is done)."""
        request: dict[str, Any] = {
            "TableName": self.table, "IndexName": INDEX, "Limit": limit, "ScanIndexForward": not newest_first,
            "KeyConditionExpression": "period_month = :m AND period_at BETWEEN :a AND :b",
            "ExpressionAttributeValues": {":m": {"S": month}, ":a": {"S": first_at}, ":b": {"S": last_at}},
        }  # fmt: skip
        if start:
            request["ExclusiveStartKey"] = start
        result = self.ddb.query(**request)
        items = self._items([k["response_id"]["S"] for k in result["Items"]])
        return [_row(items[rid]) for k in result["Items"] if "data" in items.get(rid := k["response_id"]["S"], {})
                ], result.get("LastEvaluatedKey")  # fmt: skip

    def _items(self, response_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The table's items of these responses (BatchGetItem, a hundred a call), by response id."""
        return {i["response_id"]["S"]: i for i in self.batch_get([{"response_id": {"S": rid}} for rid in response_ids])}

    def rows(self, months: list[str], first_at: str, last_at: str, *, newest_first: bool = False,
             page_size: int = 500) -> Iterator[ScoredRow]:  # fmt: skip
        """Every response of those months in the range, page by page, oldest (or newest) first."""
        for month in reversed(months) if newest_first else months:
            start = None
            while True:
                rows, start = self.page(month, first_at, last_at, newest_first=newest_first, limit=page_size,
                                        start=start)  # fmt: skip
                yield from rows
                if not start:
                    break


def _row(item: dict[str, Any]) -> ScoredRow:
    sentiment = item.get("sentiment", {}).get("S")
    return ScoredRow(
        response=CanonicalResponse.model_validate(json.loads(item["data"]["S"])),
        category=item["category"]["S"],
        period_at=item["period_at"]["S"],
        themes=tuple(t["S"] for t in item.get("themes", {}).get("L", [])),
        sentiment=sentiment,
        revision=int(item["revision"]["N"]),
        received_at=item["received_at"]["S"],
        historical=item.get("historical", {}).get("BOOL", False),
    )
