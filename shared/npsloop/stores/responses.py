"""The Responses table: the latest revision of each response, whether it was published, and what it counts for.

An erased response (`npsloop erase`) keeps its item without the answer (`data`) and its content hash: what it counts
for stays (ledgers, category, period, themes, Salesforce ids), so the aggregates keep counting it anonymously and a
redelivery of it is recognised (`erased`) instead of being stored again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from npsloop.aws import TableStore, conditional_failed
from npsloop.models import CanonicalResponse, iso


class Erased:
    """What is stored for a response `npsloop erase` removed: its counting, not its answer."""


ERASED = Erased()


@dataclass(frozen=True)
class StoredResponse:
    response: CanonicalResponse
    revision: int
    content_hash: str
    version_at: str
    received_at: str
    published: bool
    historical: bool = False


class ResponseStore(TableStore):
    def get(self, response_id: str) -> StoredResponse | None:
        item = self.ddb.get_item(TableName=self.table, Key={"response_id": {"S": response_id}}, ConsistentRead=True)
        return _stored(item.get("Item"))

    def create(self, response: CanonicalResponse, *, received_at: datetime, historical: bool = False
               ) -> StoredResponse | Erased | None:  # fmt: skip
        """Write revision 1 of a response not stored yet (one call); when one is stored, it is returned instead
        (ERASED when the response was erased)."""
        item = {"response_id": {"S": response.response_id}, **self._fields(response, 1, received_at, historical)}
        try:
            self.ddb.put_item(TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(response_id)",
                              ReturnValuesOnConditionCheckFailure="ALL_OLD")  # fmt: skip
        except Exception as exc:
            if not conditional_failed(exc):
                raise
            return _refused(exc) or self.get(response.response_id)
        return None

    @staticmethod
    def _fields(response: CanonicalResponse, revision: int, received_at: datetime, historical: bool
                ) -> dict[str, Any]:  # fmt: skip
        """A revision's attributes, as stored."""
        return {
            "data": {"S": response.model_dump_json()},
            "revision": {"N": str(revision)},
            "content_hash": {"S": response.content_hash()},
            "version_at": {"S": iso(response.version_at(received_at))},
            "received_at": {"S": iso(received_at)},
            "source": {"S": response.source},
            "historical": {"BOOL": historical},
            "published": {"BOOL": False},
        }

    def save(
        self, response: CanonicalResponse, *, revision: int, received_at: datetime, historical: bool = False,
        refused: list[StoredResponse | Erased | None] | None = None,
    ) -> bool:  # fmt: skip
        """Write `revision` if the stored one is `revision - 1` (or none is stored); False if another writer won.

        When it returns False, `refused` (if given) receives what is stored, as DynamoDB returned it with the refusal.
        """
        fields = self._fields(response, revision, received_at, historical)
        values = {f":{name}": value for name, value in fields.items()}
        if revision == 1:
            condition = "attribute_not_exists(revision)"
        else:
            condition = "revision = :prev"
            values[":prev"] = {"N": str(revision - 1)}
        try:
            self.ddb.update_item(
                TableName=self.table,
                Key={"response_id": {"S": response.response_id}},
                UpdateExpression="SET " + ", ".join(f"#{name} = :{name}" for name in fields),
                ConditionExpression=condition,
                ExpressionAttributeNames={f"#{name}": name for name in fields},
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except Exception as exc:
            if conditional_failed(exc):
                if refused is not None:
                    refused.append(_refused(exc))
                return False
            raise
        return True

    def erase(self, response_id: str, *, at: str) -> None:
        """Drop the answer and its content hash, keep the counting; `get` then finds nothing, `create` says ERASED."""
        self.ddb.update_item(
            TableName=self.table, Key={"response_id": {"S": response_id}},
            UpdateExpression="REMOVE #data, content_hash SET erased_at = :at",
            ConditionExpression="attribute_exists(response_id)",
            ExpressionAttributeNames={"#data": "data"}, ExpressionAttributeValues={":at": {"S": at}},
        )  # fmt: skip

    def mark_published(self, response_id: str, revision: int) -> None:
        """Remember that ResponseReceived went out for this revision (a newer revision resets it)."""
        try:
            self.ddb.update_item(
                TableName=self.table,
                Key={"response_id": {"S": response_id}},
                UpdateExpression="SET published = :true",
                ConditionExpression="revision = :rev",
                ExpressionAttributeValues={":true": {"BOOL": True}, ":rev": {"N": str(revision)}},
            )
        except Exception as exc:
            if not conditional_failed(exc):  # a newer revision arrived meanwhile: it will be published itself
                raise

    def ledgers(self, response_ids: list[str], ledger: str) -> dict[str, tuple[int, Any]]:
        """What each response counts for in the aggregates now: {id: (counted revision, contribution)}."""
        names = {"#c": ledger, "#r": f"{ledger}_revision"}
        return {item["response_id"]["S"]: (int(item[names["#r"]]["N"]), json.loads(item[ledger]["S"]))
                for item in self._batch_get(response_ids, "response_id, #c, #r", names) if ledger in item}  # fmt: skip

    def revisions(self, response_ids: list[str]) -> dict[str, int]:
        """The revision stored now of each response (one not stored, or erased, is left out)."""
        return {item["response_id"]["S"]: int(item["revision"]["N"])
                for item in self._batch_get(response_ids, "response_id, #r", {"#r": "revision"})
                if "revision" in item}  # fmt: skip

    def _batch_get(self, response_ids: list[str], projection: str, names: dict[str, str]) -> list[dict[str, Any]]:
        """The items of these responses (consistent reads, 100 a call), with the projected attributes."""
        out: list[dict[str, Any]] = []
        for start in range(0, len(response_ids), 100):
            keys = [{"response_id": {"S": rid}} for rid in response_ids[start : start + 100]]
            request: dict[str, Any] | None = {
                self.table: {"Keys": keys, "ConsistentRead": True,
                             "ProjectionExpression": projection, "ExpressionAttributeNames": names}
            }  # fmt: skip
            while request:
                result = self.ddb.batch_get_item(RequestItems=request)
                out.extend(result["Responses"].get(self.table, []))
                request = result.get("UnprocessedKeys") or None
        return out

    def record_link(self, response_id: str, revision: int, *, contact_id: str | None, account_id: str | None,
                    record_id: str | None) -> None:  # fmt: skip
        """Remember what the sync matched a revision to (a newer revision keeps its own)."""
        values: dict[str, Any] = {":rev": {"N": str(revision)}}
        sets = []
        for name, value in (("sf_contact_id", contact_id), ("sf_account_id", account_id), ("sf_record_id", record_id)):
            values[f":{name}"] = {"S": value} if value else {"NULL": True}
            sets.append(f"{name} = :{name}")
        try:
            self.ddb.update_item(
                TableName=self.table,
                Key={"response_id": {"S": response_id}},
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression="revision = :rev",
                ExpressionAttributeValues=values,
            )
        except Exception as exc:
            if not conditional_failed(exc):
                raise


def _refused(exc: Exception) -> StoredResponse | Erased | None:
    """What a refused conditional write found stored (DynamoDB returns it with ReturnValuesOnConditionCheckFailure)."""
    item = getattr(exc, "response", {}).get("Item") or {}
    return ERASED if "erased_at" in item else _stored(item)


def _stored(item: dict[str, Any] | None) -> StoredResponse | None:
    if not item or "data" not in item:
        return None
    return StoredResponse(
        response=CanonicalResponse.model_validate_json(item["data"]["S"]),
        revision=int(item["revision"]["N"]),
        content_hash=item["content_hash"]["S"],
        version_at=item["version_at"]["S"],
        received_at=item["received_at"]["S"],
        published=item.get("published", {}).get("BOOL", False),
        historical=item.get("historical", {}).get("BOOL", False),
    )
