"""The Responses table: the latest revision of each response and what it counts for.

Each revision is stored with its counting basis beside the answer (`score`, `period_at`, `segments`, `themes`): the
table's stream (NEW_AND_OLD_IMAGES) is what compute_score counts from, each change moving the aggregates from the old
image's basis to the new one's (npsloop.aggregation.basis_moves). The write is the event: nothing is published,
nothing can be stored and not counted.

The sync stores what it matched (`sf_account_id`, `sf_contact_id`, `sf_record_id`). The ByAccount index holds each
response linked to an Account with its `score` and `period_at`: the account's NPS is counted from it (AccountCounts),
each linked response once with its latest answer; a revision keeps its link until the sync stores the next one.

An erased response (`npsloop erase`) keeps its item without the answer (`data`) and its content hash: its basis
stays, so the aggregates keep counting it anonymously and a redelivery of it is recognised (`erased`) instead of
being stored again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from npsloop.aggregation import STORED_PERIODS, Basis, basis_of, increments, period_labels
from npsloop.aws import TableStore, conditional_failed
from npsloop.calls import side_by_side
from npsloop.models import CanonicalResponse, iso
from npsloop.scoring import classify


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
    historical: bool = False


@dataclass(frozen=True)
class Counting:
    """How a writer computes a revision's basis: the counted segments and the comment's themes (both configured)."""

    segments: Sequence[str]
    themes_of: Callable[[str | None], Iterable[str]] = lambda comment: ()

    def basis(self, response: CanonicalResponse, received_at: datetime) -> Basis:
        return basis_of(response, received_at, self.segments, self.themes_of(response.comment))


@dataclass(frozen=True)
class SyncedTo:
    """What the sync matched a response to in Salesforce: its Contact, its Account and its NPS_Response__c record."""

    contact_id: str | None
    account_id: str | None
    record_id: str | None


@dataclass(frozen=True)
class Link:
    """What the stored item says about a response: its revision and what the sync last matched it to (None before
    the first sync)."""

    revision: int
    synced: SyncedTo | None = None


class ResponseStore(TableStore):
    def __init__(self, table: str, dynamodb: Any | None = None, counting: Counting | None = None):
        super().__init__(table, dynamodb)
        if counting is None:
            from npsloop.aggregation import SEGMENTS

            counting = Counting(SEGMENTS)
        self.counting = counting

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

    def _fields(self, response: CanonicalResponse, revision: int, received_at: datetime, historical: bool
                ) -> dict[str, Any]:  # fmt: skip
        """A revision's attributes, as stored: the answer and its basis (what it counts for)."""
        return {
            "data": {"S": response.model_dump_json()},
            "revision": {"N": str(revision)},
            "content_hash": {"S": response.content_hash()},
            "version_at": {"S": iso(response.version_at(received_at))},
            "received_at": {"S": iso(received_at)},
            "source": {"S": response.source},
            "historical": {"BOOL": historical},
            **basis_attributes(self.counting.basis(response, received_at)),
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
        stale = " REMOVE sentiment"  # learnt about the revision before: compute_score finds this one's
        if revision == 1:
            condition = "attribute_not_exists(revision)"
        else:
            condition = "revision = :prev"
            values[":prev"] = {"N": str(revision - 1)}
        try:
            self.ddb.update_item(
                TableName=self.table,
                Key={"response_id": {"S": response.response_id}},
                UpdateExpression="SET " + ", ".join(f"#{name} = :{name}" for name in fields) + stale,
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

    def revisions(self, response_ids: list[str]) -> dict[str, int]:
        """The revision stored now of each response (one not stored is left out)."""
        return {rid: link.revision for rid, link in self.links(response_ids).items()}

    def links(self, response_ids: list[str]) -> dict[str, Link]:
        """Each stored response's revision and what the sync matched it to (one BatchGetItem per hundred)."""
        projection = f"response_id, #r, {', '.join(SYNCED_ATTRIBUTES)}"
        return {item["response_id"]["S"]: Link(int(item["revision"]["N"]), _synced(item))
                for item in self._batch_get(response_ids, projection, {"#r": "revision"})
                if "revision" in item}  # fmt: skip

    def set_sentiment(self, found: Iterable[tuple[str, int, str]]) -> None:
        """Store the sentiment compute_score found for (response, revision); a newer revision keeps none."""
        for response_id, revision, sentiment in found:
            try:
                self.ddb.update_item(TableName=self.table, Key={"response_id": {"S": response_id}},
                                     UpdateExpression="SET sentiment = :s", ConditionExpression="revision = :rev",
                                     ExpressionAttributeValues={":s": {"S": sentiment}, ":rev": {"N": str(revision)}})
            except Exception as exc:
                if not conditional_failed(exc):
                    raise

    def _batch_get(self, response_ids: list[str], projection: str, names: dict[str, str]) -> list[dict[str, Any]]:
        """The items of these responses with the projected attributes, eventually consistent (half the read units):
        the sync reads what was stored seconds before it was scored, and a revision stored since sends its own
        ResponseScored after."""
        return self.batch_get([{"response_id": {"S": rid}} for rid in response_ids], ProjectionExpression=projection,
                              ExpressionAttributeNames=names)  # fmt: skip

    def record_link(self, response_id: str, revision: int, synced: SyncedTo) -> None:
        """Remember what the sync matched a revision to (a newer revision keeps its own); what it did not match is
        removed (`sf_account_id` keys the ByAccount index, which takes a string or nothing)."""
        values: dict[str, Any] = {":rev": {"N": str(revision)}}
        sets, removes = [], []
        for name, value in zip(SYNCED_ATTRIBUTES, _ids(synced), strict=True):
            if value:
                values[f":{name}"] = {"S": value}
                sets.append(f"{name} = :{name}")
            else:
                removes.append(name)
        update = " ".join(part for part in ("SET " + ", ".join(sets) if sets else "",
                                            "REMOVE " + ", ".join(removes) if removes else "") if part)  # fmt: skip
        self.write_if(
            "update_item", Key={"response_id": {"S": response_id}}, UpdateExpression=update,
            ConditionExpression="revision = :rev", ExpressionAttributeValues=values,
        )  # fmt: skip

    def record_links(self, links: Mapping[str, tuple[int, SyncedTo]], stored: Mapping[str, Link]) -> int:
        """`record_link` for each response id -> (revision, match), side by side, except where the stored item (as
        `links` read it) already says the same of that revision: a write that changes nothing still costs its write
        units. Returns the writes made."""
        changed = [(rid, revision, synced) for rid, (revision, synced) in links.items()
                   if not ((held := stored.get(rid)) and held.revision == revision and held.synced == synced)]
        side_by_side(lambda link: self.record_link(*link), changed)
        return len(changed)


SYNCED_ATTRIBUTES = ("sf_contact_id", "sf_account_id", "sf_record_id")


def _ids(synced: SyncedTo) -> tuple[str | None, str | None, str | None]:
    return synced.contact_id, synced.account_id, synced.record_id


def _synced(item: dict[str, Any]) -> SyncedTo | None:
    """What the item says the sync matched it to; None when no sync has stored a match yet (a stored match always
    names its NPS_Response__c record)."""
    if "sf_record_id" not in item:
        return None
    contact, account, record = ((item.get(name) or {}).get("S") for name in SYNCED_ATTRIBUTES)
    return SyncedTo(contact, account, record)


def _refused(exc: Exception) -> StoredResponse | Erased | None:
    """What a refused conditional write found stored (DynamoDB returns it with ReturnValuesOnConditionCheckFailure)."""
    item = getattr(exc, "response", {}).get("Item") or {}
    return ERASED if "erased_at" in item else _stored(item)


def basis_attributes(basis: Basis) -> dict[str, Any]:
    """A basis as item attributes (period_month and period_at also key the ByMonth index)."""
    return {
        "score": {"N": str(basis.score)},
        "category": {"S": classify(basis.score).value},
        "period_at": {"S": iso(basis.at)},
        "period_month": {"S": period_labels(basis.at)["month"]},
        "segments": {"M": {name: {"S": value} for name, value in basis.segments.items()}},
        "themes": {"L": [{"S": t} for t in basis.themes]},
    }


def basis_from(image: dict[str, Any] | None) -> Basis | None:
    """The basis an item (or a stream image) holds; None for an item without one."""
    if not image or "score" not in image or "period_at" not in image:
        return None
    return Basis(
        score=int(image["score"]["N"]),
        at=datetime.fromisoformat(image["period_at"]["S"].replace("Z", "+00:00")),
        segments={name: value["S"] for name, value in image.get("segments", {}).get("M", {}).items()},
        themes=tuple(t["S"] for t in image.get("themes", {}).get("L", [])),
    )


def _stored(item: dict[str, Any] | None) -> StoredResponse | None:
    if not item or "data" not in item:
        return None
    return StoredResponse(
        response=CanonicalResponse.model_validate_json(item["data"]["S"]),
        revision=int(item["revision"]["N"]),
        content_hash=item["content_hash"]["S"],
        version_at=item["version_at"]["S"],
        received_at=item["received_at"]["S"],
        historical=item.get("historical", {}).get("BOOL", False),
    )


@dataclass(frozen=True)
class ScannedResponse:
    response: CanonicalResponse
    revision: int
    received_at: datetime
    basis: Basis


class ResponseScan(TableStore):
    """Every stored response with its basis, page by page, and the rewrite of a basis (reaggregation)."""

    def count(self) -> int:
        """About how many items the table holds (DynamoDB updates this every six hours or so)."""
        return int(self.ddb.describe_table(TableName=self.table)["Table"].get("ItemCount", 0))

    def pages(self, page_size: int = 100) -> Iterator[list[ScannedResponse]]:
        """Responses with an answer and a basis (an erased one keeps its basis as it is)."""
        request: dict[str, Any] = {"TableName": self.table, "Limit": page_size}
        while True:
            page = self.ddb.scan(**request)
            yield [row for item in page["Items"] if (row := _scanned(item))]
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def get(self, response_id: str) -> ScannedResponse | None:
        item = self.ddb.get_item(TableName=self.table, Key={"response_id": {"S": response_id}}, ConsistentRead=True)
        return _scanned(item.get("Item") or {})

    def rewrite(self, response_id: str, revision: int, basis: Basis) -> bool:
        """Store a new basis for the revision read; False when another revision is stored now."""
        fields = basis_attributes(basis)
        return self.write_if(
            "update_item", Key={"response_id": {"S": response_id}},
            UpdateExpression="SET " + ", ".join(f"#{n} = :{n}" for n in fields),
            ConditionExpression="revision = :rev", ExpressionAttributeNames={f"#{n}": n for n in fields},
            ExpressionAttributeValues={**{f":{n}": v for n, v in fields.items()}, ":rev": {"N": str(revision)}},
        )  # fmt: skip


def _scanned(item: dict[str, Any]) -> ScannedResponse | None:
    basis = basis_from(item)
    if "data" not in item or basis is None:
        return None
    return ScannedResponse(CanonicalResponse.model_validate_json(item["data"]["S"]), int(item["revision"]["N"]),
                           datetime.fromisoformat(item["received_at"]["S"]), basis)  # fmt: skip


class AccountCounts(TableStore):
    """The responses the sync linked to each Account, read from the Responses table's ByAccount index (eventually
    consistent, as every index read is): the account's NPS for the sync, the account segment of /nps."""

    INDEX = "ByAccount"

    def scores(self, account_id: str, since: str = "0", until: str = "~") -> dict[str, tuple[int, str]]:
        """Each linked response of the account counted at a time in [since, until] (ISO prefixes: "~" sorts after
        every character of one): (score, period_at) by response id."""
        request: dict[str, Any] = {
            "TableName": self.table, "IndexName": self.INDEX,
            "KeyConditionExpression": "sf_account_id = :a AND period_at BETWEEN :since AND :until",
            "ExpressionAttributeValues": {":a": {"S": account_id}, ":since": {"S": since}, ":until": {"S": until}},
            "ProjectionExpression": "response_id, score, period_at",
        }  # fmt: skip
        out: dict[str, tuple[int, str]] = {}
        while True:
            page = self.ddb.query(**request)
            for item in page["Items"]:
                out[item["response_id"]["S"]] = (int(item["score"]["N"]), item["period_at"]["S"])
            if "LastEvaluatedKey" not in page:
                return out
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def between(self, pk: str, first_sk: str, last_sk: str) -> dict[str, dict[str, int]]:
        """The account segment shaped as the Aggregates table holds a segment: `pk` "account#<id>", day or month
        items with sort keys in [first_sk, last_sk] (AggregateStore.between), counted from the index."""
        kind, first = first_sk.split("#", 1)
        last = last_sk.split("#", 1)[1]
        if kind not in STORED_PERIODS or not pk.startswith("account#"):
            raise ValueError(f"not an account segment's day or month range: {pk} {first_sk}..{last_sk}")
        out: dict[str, Counter] = {}
        for score, at in self.scores(pk.removeprefix("account#"), first, last + "~").values():
            label = period_labels(datetime.fromisoformat(at.replace("Z", "+00:00")))[kind]
            out.setdefault(f"{kind}#{label}", Counter()).update(increments(score))
        return {sk: dict(counter) for sk, counter in out.items()}
