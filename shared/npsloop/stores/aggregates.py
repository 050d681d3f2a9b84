"""The Aggregates table: counts per segment and period, moved together with each response's ledger, atomically."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from npsloop.aggregation import AggregateKey
from npsloop.aws import client, error_code

MAX_TRANSACTION_ITEMS = 100  # DynamoDB TransactWriteItems limit
UNCHECKED: Any = object()  # a LedgerEntry's `previous` when the writer does not say what it read


class LedgerEntry(NamedTuple):
    response_id: str
    revision: int
    contribution: dict
    # The contribution the writer read and computed its moves from (None: not counted yet). When given, the write
    # also requires the ledger to be unchanged, so two writers that read the same ledger cannot both move the counts.
    previous: Any = UNCHECKED
    # Other attributes of the Responses item set in the same write (what was learnt about the response).
    attributes: dict | None = None


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

        False when another writer counted one of these responses at the same or a newer revision meanwhile, or
        changed the ledger an entry says it read (the caller re-reads the ledgers and tries again); the counts are
        then untouched.
        """
        return self._transact(
            [self._ledger_update(ledger, e, "attribute_not_exists(#r) OR #r < :rev") for e in entries], moves
        )

    def recount(self, ledger: str, entries: Sequence[LedgerEntry], moves: Mapping[AggregateKey, Counter]) -> bool:
        """Change what responses count for at the revision they are counted with (reaggregation), all or nothing.

        Each entry's `previous` must be the ledger as read: False when any ledger changed meanwhile.
        """
        if any(e.previous is UNCHECKED for e in entries):
            raise ValueError("recount needs the ledger each entry was computed from")
        return self._transact([self._ledger_update(ledger, e, "#r = :rev") for e in entries], moves)

    def _ledger_update(self, ledger: str, e: LedgerEntry, condition: str) -> dict[str, Any]:
        names = {"#c": ledger, "#r": f"{ledger}_revision"}
        values: dict[str, Any] = {":c": {"S": json.dumps(e.contribution)}, ":rev": {"N": str(e.revision)}}
        sets = ["#c = :c", "#r = :rev"]
        if e.previous is None:
            condition = f"({condition}) AND attribute_not_exists(#c)"
        elif e.previous is not UNCHECKED:
            condition = f"({condition}) AND #c = :prev"
            values[":prev"] = {"S": json.dumps(e.previous)}
        for i, (name, value) in enumerate(sorted((e.attributes or {}).items())):
            names[f"#x{i}"] = name
            values[f":x{i}"] = _attribute_value(value)
            sets.append(f"#x{i} = :x{i}")
        return {
            "Update": {
                "TableName": self.responses_table,
                "Key": {"response_id": {"S": e.response_id}},
                "UpdateExpression": "SET " + ", ".join(sets),
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    def _transact(self, items: list[dict[str, Any]], moves: Mapping[AggregateKey, Counter]) -> bool:
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
            code = error_code(exc)
            if code in ("TransactionCanceledException", "TransactionConflictException"):
                return False
            raise
        return True

    def get(self, pk: str, sk: str) -> dict[str, int]:
        item = self.ddb.get_item(TableName=self.aggregates_table, Key={"pk": {"S": pk}, "sk": {"S": sk}}).get("Item")
        return {k: int(v["N"]) for k, v in (item or {}).items() if "N" in v}

    def between(self, pk: str, first_sk: str, last_sk: str) -> dict[str, dict[str, int]]:
        """The counters of every item of `pk` whose sort key lies in [first_sk, last_sk], by sort key.

        One Query (a page holds about a thousand items): the cost follows the periods asked for, not the responses.
        """
        out: dict[str, dict[str, int]] = {}
        request: dict[str, Any] = {
            "TableName": self.aggregates_table,
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


def _attribute_value(value: Any) -> dict[str, Any]:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": str(value)}
    if isinstance(value, list | tuple):
        return {"L": [_attribute_value(v) for v in value]}
    return {"S": str(value)}
