"""compute_score's work: classify each response, publish ResponseScored, count it exactly once in the aggregates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from npsloop.aggregation import PERIODS, SEGMENTS, contribution, deltas, keys_for, merge, segment_values
from npsloop.models import ResponseEvent, ScoredEvent
from npsloop.stores.aggregates import MAX_TRANSACTION_ITEMS, AggregateStore, LedgerEntry
from npsloop.stores.bus import EventBus
from npsloop.stores.responses import ResponseStore

logger = Logger(child=True)
ATTEMPTS = 4


@dataclass(frozen=True)
class Counting:
    """What one kind of event is counted for: its ledger on the response, its segments and periods."""

    ledger: str
    segments: tuple[str, ...]
    periods: tuple[str, ...]
    publishes_scored: bool


# ResponseReceived: every segment known at ingest. ResponseLinked: the account the sync matched, by month.
RESPONSES = Counting("counted", SEGMENTS, PERIODS, publishes_scored=True)
ACCOUNTS = Counting("account_counted", ("account",), ("month",), publishes_scored=False)
COUNTING = {"ResponseReceived": RESPONSES, "ResponseLinked": ACCOUNTS}


@dataclass(frozen=True)
class Received:
    message_id: str
    event: ResponseEvent


def score_batch(
    batch: Sequence[Received],
    responses: ResponseStore,
    aggregates: AggregateStore,
    bus: EventBus,
    counting: Counting = RESPONSES,
) -> set[str]:
    """Process one SQS batch; returns the message ids that failed and must come back.

    Exactly once: a response's ledger (the revision and contribution it is counted with) changes in the same
    transaction as the counts, so a message seen twice, an older revision arriving late, or a crash between
    two writes never counts a response twice. ResponseScored goes out before counting, so a crash after
    counting cannot lose it; consumers are idempotent per response and revision.
    """
    latest: dict[str, Received] = {}
    for item in batch:
        current = latest.get(item.event.response.response_id)
        if current is None or item.event.revision > current.event.revision:
            latest[item.event.response.response_id] = item
    pending = list(latest.values())
    failed: set[str] = set()
    for attempt in range(ATTEMPTS):
        counted = responses.ledgers([r.event.response.response_id for r in pending], counting.ledger)
        todo = [r for r in pending if counted.get(r.event.response.response_id, (0, None))[0] < r.event.revision]
        if attempt == 0 and counting.publishes_scored:
            bus.publish([("ResponseScored", _scored(r.event)) for r in todo])
        pending = []
        for group in _transactions(todo, counted, counting):
            entries, moves = group
            if not aggregates.apply(counting.ledger, entries, merge(m for m in moves)):
                pending.extend(r for r in todo if r.event.response.response_id in {e.response_id for e in entries})
        if not pending:
            break
        logger.info("aggregate transaction conflicted; retrying", extra={"responses": len(pending)})
    else:
        failed = {r.message_id for r in pending}
    if failed:
        ids = {r.event.response.response_id for r in pending}
        failed |= {item.message_id for item in batch if item.event.response.response_id in ids}
    return failed


def _scored(event: ResponseEvent) -> dict:
    return ScoredEvent(**dict(event), category=event.response.category).model_dump(mode="json")


def contribution_of(event: ResponseEvent, counting: Counting) -> dict:
    """The aggregate items one revision of a response counts in, with its score."""
    segments = segment_values(event.response, counting.segments)
    return contribution(event.response.score, keys_for(segments, event.period_time, counting.periods))


def _transactions(todo: Sequence[Received], counted: dict, counting: Counting) -> list[tuple[list[LedgerEntry], list]]:
    """Group responses so each group's ledgers plus its distinct aggregate items fit in one transaction."""
    groups: list[tuple[list[LedgerEntry], list]] = []
    entries: list[LedgerEntry] = []
    moves: list = []
    keys: set = set()
    for item in todo:
        event = item.event
        new = contribution_of(event, counting)
        move = deltas(counted.get(event.response.response_id, (0, None))[1], new)
        if entries and len(entries) + 1 + len(keys | move.keys()) > MAX_TRANSACTION_ITEMS:
            groups.append((entries, moves))
            entries, moves, keys = [], [], set()
        entries.append(LedgerEntry(event.response.response_id, event.revision, new))
        moves.append(move)
        keys |= move.keys()
    if entries:
        groups.append((entries, moves))
    return groups
