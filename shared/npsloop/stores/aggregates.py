"""The Aggregates table: counts per segment and period, moved together with each response's ledger, atomically."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from npsloop.aggregation import AggregateKey
from npsloop.aws import client

MAX_TRANSACTION_ITEMS = 100  # DynamoDB TransactWriteItems limit


class LedgerEntry(NamedTuple):
    response_id: str
    revision: int
    contribution: dict


class AggregateStore:
    def __init__(self, responses_table: str, aggregates_table: str, dynamodb: Any | None = None):
        self.responses_table = responses_table
        self.aggregates_table = aggregates_table
        self._ddb = dynamodb

    @property
    def ddb(self) -> Any:
        return self._ddb or client("dynamodb")

    def apply(self, ledger: str, entries: Sequence[LedgerEntry], moves: Mapping[AggregateKey, Counter]) -> bool:
        """Move the counts and record what each response now counts for, all or nothing.

        False when another writer counted one of these responses at the same or a newer revision meanwhile
        (the caller re-reads the ledgers and tries again); the counts are then untouched.
        """
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self.responses_table,
                    "Key": {"response_id": {"S": e.response_id}},
                    "UpdateExpression": "SET #c = :c, #r = :rev",
                    "ConditionExpression": "attribute_not_exists(#r) OR #r < :rev",
                    "ExpressionAttributeNames": {"#c": ledger, "#r": f"{ledger}_revision"},
                    "ExpressionAttributeValues": {
                        ":c": {"S": json.dumps(e.contribution)},
                        ":rev": {"N": str(e.revision)},
                    },
                }
            }
            for e in entries
        ]
        for key, counter in moves.items():
            names = {f"#a{i}": attr for i, attr in enumerate(sorted(counter))}
            items.append(
                {
                    "Update": {
                        "TableName": self.aggregates_table,
                        "Key": {"pk": {"S": key.pk}, "sk": {"S": key.sk}},
                        "UpdateExpression": "ADD " + ", ".join(f"{n} :v{n[2:]}" for n in names),
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": {f":v{n[2:]}": {"N": str(counter[a])} for n, a in names.items()},
                    }
                }
            )
        if len(items) > MAX_TRANSACTION_ITEMS:
            raise ValueError(f"{len(items)} items do not fit one transaction")
        try:
            self.ddb.transact_write_items(TransactItems=items)
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            if code in ("TransactionCanceledException", "TransactionConflictException"):
                return False
            raise
        return True

    def between(self, pk: str, first_sk: str, last_sk: str) -> dict[str, dict[str, int]]:
        """The items of one segment whose sort keys lie between two (inclusive), by sort key."""
        out: dict[str, dict[str, int]] = {}
        pages = self.ddb.get_paginator("query").paginate(
            TableName=self.aggregates_table,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :a AND :b",
            ExpressionAttributeValues={":pk": {"S": pk}, ":a": {"S": first_sk}, ":b": {"S": last_sk}},
        )
        for page in pages:
            for item in page["Items"]:
                out[item["sk"]["S"]] = {k: int(v["N"]) for k, v in item.items() if "N" in v}
        return out

    def get(self, pk: str, sk: str) -> dict[str, int]:
        item = self.ddb.get_item(TableName=self.aggregates_table, Key={"pk": {"S": pk}, "sk": {"S": sk}}).get("Item")
        return {k: int(v["N"]) for k, v in (item or {}).items() if "N" in v}
