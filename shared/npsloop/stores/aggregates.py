"""The Aggregates table: counts per segment and period, moved by compute_score from the Responses table's stream.

Besides the counts it holds, for a few days, a marker per counted chunk of stream records (pk `#chunk#<first
record's eventID>`; no segment name starts with `#`), written in the same transaction as the chunk's counts: it
lists the chunk's records, so a chunk Lambda hands over again is recognised and not counted twice.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from npsloop.aggregation import AggregateKey
from npsloop.aws import TableStore, error_code

MAX_TRANSACTION_ITEMS = 100  # DynamoDB TransactWriteItems limit
MARKER_PREFIX = "#chunk#"
MARKER_DAYS = 3  # a stream keeps records for 24 hours: a retried chunk is never older


class AggregateStore(TableStore):
    def count(self, records: Sequence[str], moves: Mapping[AggregateKey, Counter]) -> bool | list[str]:
        """Move the counts for a chunk of stream records (their eventIDs, in order), with the chunk's marker, all or
        nothing. True when counted now; the records the marker lists when this chunk was counted before (then the
        counts are untouched); False when the transaction collided with another writer (try again)."""
        items: list[dict[str, Any]] = [{"Put": {"TableName": self.table, "Item": _marker(records),
                                                "ConditionExpression": "attribute_not_exists(pk)"}}]  # fmt: skip
        for key, counter in moves.items():
            names = {f"#a{i}": attr for i, attr in enumerate(sorted(counter))}
            items.append({"Update": {
                "TableName": self.table, "Key": {"pk": {"S": key.pk}, "sk": {"S": key.sk}},
                "UpdateExpression": "ADD " + ", ".join(f"{n} :v{n[2:]}" for n in names),
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": {f":v{n[2:]}": {"N": str(counter[a])} for n, a in names.items()},
            }})  # fmt: skip
        if len(items) > MAX_TRANSACTION_ITEMS:
            raise ValueError(f"{len(items)} items do not fit one transaction")
        try:
            self.ddb.transact_write_items(TransactItems=items)
        except Exception as exc:
            if error_code(exc) not in ("TransactionCanceledException", "TransactionConflictException"):
                raise
            counted = self.counted(records[0])
            return counted if counted is not None else False
        return True

    def counted(self, first_record: str) -> list[str] | None:
        """The records of the chunk counted from this record on, or None when no chunk starts there."""
        item = self.ddb.get_item(TableName=self.table, ConsistentRead=True,
                                 Key={"pk": {"S": MARKER_PREFIX + first_record}, "sk": {"S": "chunk"}}).get("Item")
        return [r["S"] for r in item["records"]["L"]] if item else None

    def continue_marker(self, records: Sequence[str]) -> None:
        """Name the rest of a counted chunk after its next record, for a batch that ends inside the chunk: the next
        batch begins there."""
        if records:
            self.ddb.put_item(TableName=self.table, Item=_marker(records))

    def get(self, pk: str, sk: str) -> dict[str, int]:
        item = self.ddb.get_item(TableName=self.table, Key={"pk": {"S": pk}, "sk": {"S": sk}}).get("Item")
        return {k: int(v["N"]) for k, v in (item or {}).items() if "N" in v}

    def between(self, pk: str, first_sk: str, last_sk: str) -> dict[str, dict[str, int]]:
        """The counters of every item of `pk` whose sort key lies in [first_sk, last_sk], by sort key.

        One Query (a page holds about a thousand items): the cost follows the periods asked for, not the responses.
        """
        out: dict[str, dict[str, int]] = {}
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :a AND :b",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":a": {"S": first_sk}, ":b": {"S": last_sk}},
        }
        while True:
            page = self.ddb.query(**request)
            for item in page["Items"]:
                out[item["sk"]["S"]] = {k: int(v["N"]) for k, v in item.items() if "N" in v}
            if "LastEvaluatedKey" not in page:
                return out
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]



def _marker(records: Sequence[str]) -> dict[str, Any]:
    return {"pk": {"S": MARKER_PREFIX + records[0]}, "sk": {"S": "chunk"},
            "records": {"L": [{"S": r} for r in records]},
            "expires_at": {"N": str(int(time.time()) + MARKER_DAYS * 86400)}}  # fmt: skip
