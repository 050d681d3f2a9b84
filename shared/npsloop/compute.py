"""compute_score's work: count every change of the Responses table exactly once; publish ResponseScored for each new
revision.

The table's stream (NEW_AND_OLD_IMAGES) hands over each write, in order per item: a new revision (ingest), the
account the sync matched (sync_salesforce: it moves nothing here, the ByAccount index counts it), a basis `npsloop
reaggregate` rewrote, an erasure (which keeps the basis). Each moves the aggregates from the old image's basis to the
new one's (npsloop.aggregation.basis_moves), so the Aggregates table always equals the sum of what the stored items
count for.

Exactly once: the records that move something are counted in chunks of consecutive records; a chunk's counts move
in one transaction with a marker named after its first record that lists its records. Lambda hands a failed batch
over again from its first record, or from the record compute_score names (always the first of a chunk not
counted), so a chunk handed over again starts where a marker is, and the marker says which records it counted.
ResponseScored goes out before counting, so a crash after counting cannot lose it; its consumers are idempotent
per response and revision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from npsloop.aggregation import AggregateKey, basis_moves, merge
from npsloop.analysis.service import SentimentPort
from npsloop.models import CanonicalResponse, ScoredEvent
from npsloop.scoring import classify
from npsloop.stores.aggregates import MAX_TRANSACTION_ITEMS, AggregateStore
from npsloop.stores.bus import EventBus
from npsloop.stores.responses import ResponseStore, basis_from

logger = Logger(child=True)
ATTEMPTS = 4


@dataclass(frozen=True)
class Change:
    """One stream record of the Responses table."""

    event_id: str
    sequence: str  # its SequenceNumber: what a partial batch failure names
    old: Mapping[str, Any] | None
    new: Mapping[str, Any] | None

    @property
    def new_revision(self) -> bool:
        """A revision stored now (not a link, a rewritten basis or an erasure of one already stored)."""
        return bool(self.new and "data" in self.new) and _revision(self.new) != _revision(self.old)


def changes(event: Mapping[str, Any]) -> list[Change]:
    """The records of a DynamoDB stream event, in order."""
    return [Change(r["eventID"], r["dynamodb"]["SequenceNumber"], r["dynamodb"].get("OldImage"),
                   r["dynamodb"].get("NewImage")) for r in event.get("Records", [])]  # fmt: skip


def count_changes(
    batch: Sequence[Change], aggregates: AggregateStore, bus: EventBus, responses: ResponseStore,
    sentiment: SentimentPort | None = None,
) -> str | None:  # fmt: skip
    """Publish, then count; returns the sequence number Lambda must hand the batch over again from (None: done)."""
    scored = [_scored(c) for c in batch if c.new_revision]
    if scored:
        scored = _with_sentiment(scored, sentiment, responses)
        bus.publish_batched("ResponseScored", [e.model_dump(mode="json") for e in scored])
    moving = [(c, m) for c in batch if (m := basis_moves(basis_from(c.old), basis_from(c.new)))]
    done = 0
    while done < len(moving):
        chunk = _chunk(moving, done)
        records = [c.event_id for c, _ in chunk]
        for _ in range(ATTEMPTS):
            outcome = aggregates.count(records, merge(m for _, m in chunk))
            if outcome is not False:
                break
            logger.info("aggregate transaction collided; trying again", extra={"records": len(records)})
        else:
            return chunk[0][0].sequence
        if outcome is True:
            done += len(chunk)
            continue
        counted = list(outcome)  # counted before: skip what the marker lists, and name the rest for the next batch
        skipped = 0
        while done < len(moving) and skipped < len(counted) and moving[done][0].event_id == counted[skipped]:
            done, skipped = done + 1, skipped + 1
        if not skipped:  # a marker always lists its own first record: this is not a chunk counted before
            raise RuntimeError("a chunk marker does not list the record it is named after")
        if done == len(moving):
            aggregates.continue_marker(counted[skipped:])
        logger.info("chunk counted before; skipped", extra={"records": skipped})
    if moving:
        logger.info("changes counted", extra={"records": len(batch), "moving": len(moving), "scored": len(scored)})
    return None


def _chunk(moving: Sequence[tuple[Change, Mapping[AggregateKey, Any]]], start: int) -> list:
    """The longest run of changes from `start` whose aggregate items and marker fit one transaction."""
    keys: set[AggregateKey] = set()
    end = start
    while end < len(moving) and (end == start or len(keys | moving[end][1].keys()) + 1 <= MAX_TRANSACTION_ITEMS):
        keys |= moving[end][1].keys()
        end += 1
    return list(moving[start:end])


def _revision(image: Mapping[str, Any] | None) -> int:
    return int(image["revision"]["N"]) if image and "revision" in image else 0


def _scored(change: Change) -> ScoredEvent:
    image = change.new or {}
    response = CanonicalResponse.model_validate_json(image["data"]["S"])
    basis = basis_from(image)
    return ScoredEvent(revision=_revision(image), received_at=image["received_at"]["S"],
                       historical=image.get("historical", {}).get("BOOL", False), response=response,
                       category=classify(response.score), themes=list(basis.themes) if basis else [])  # fmt: skip


def _with_sentiment(scored: list[ScoredEvent], sentiment: SentimentPort | None, responses: ResponseStore
                    ) -> list[ScoredEvent]:  # fmt: skip
    """Ask Comprehend about the comments (when it is on) and store what it found with each revision."""
    commented = [e for e in scored if e.response.comment]
    if sentiment is None or not commented:
        return scored
    from npsloop.analysis.themes import guess_language

    found = sentiment.detect([(guess_language(e.response.comment, e.response.locale), e.response.comment or "")
                              for e in commented])  # fmt: skip
    by_id = {e.response.response_id: s for e, s in zip(commented, found, strict=True) if s}
    responses.set_sentiment((e.response.response_id, e.revision, by_id[e.response.response_id])
                            for e in commented if e.response.response_id in by_id)  # fmt: skip
    return [e.model_copy(update={"sentiment": by_id.get(e.response.response_id)}) for e in scored]
