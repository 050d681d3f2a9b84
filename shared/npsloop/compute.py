"""compute_score's work: classify each response, publish ResponseScored, count it exactly once in the aggregates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from npsloop.aggregation import PERIODS, SEGMENTS, contribution, deltas, keys_for, merge, period_labels, segment_values
from npsloop.analysis.service import Analysis, Analyzer
from npsloop.models import ResponseEvent, ScoredEvent, iso
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
    publishes_scored: bool  # ResponseReceived: also classify, analyse the comment and publish ResponseScored


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
    analyzer: Analyzer | None = None,
    segments: Sequence[str] | None = None,
) -> set[str]:
    """Process one SQS batch; returns the message ids that failed and must come back.

    Exactly once: a response's ledger (the revision and contribution it is counted with) changes in the same
    transaction as the counts, on condition that it is still what was read, so a message seen twice, an older
    revision arriving late, two revisions counted at once, or a crash between two writes never counts a response
    twice. ResponseScored goes out before counting, so a crash after counting cannot lose it; consumers are
    idempotent per response and revision. The comment's themes and sentiment are found once, sent with
    ResponseScored and stored with the ledger.
    """
    latest: dict[str, Received] = {}
    for item in batch:
        current = latest.get(item.event.response.response_id)
        if current is None or item.event.revision > current.event.revision:
            latest[item.event.response.response_id] = item
    pending = list(latest.values())
    failed: set[str] = set()
    analysis: dict[str, Analysis] = {}
    for attempt in range(ATTEMPTS):
        counted = responses.ledgers([r.event.response.response_id for r in pending], counting.ledger)
        todo = [r for r in pending if counted.get(r.event.response.response_id, (0, None))[0] < r.event.revision]
        if attempt == 0 and counting.publishes_scored:
            analysis = analyzer.analyze([r.event.response for r in todo]) if analyzer else {}
            bus.publish_batched("ResponseScored", [_scored(r.event, analysis.get(r.event.response.response_id))
                                                   for r in todo])  # fmt: skip
        pending = []
        for group in _transactions(todo, counted, analysis, counting, segments or counting.segments):
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


def _scored(event: ResponseEvent, analysis: Analysis | None) -> dict:
    analysis = analysis or Analysis()
    return ScoredEvent(**dict(event), category=event.response.category, themes=list(analysis.themes),
                       sentiment=analysis.sentiment).model_dump(mode="json")  # fmt: skip


def response_attributes(event: ResponseEvent, analysis: Analysis | None) -> dict:
    """What compute_score stores on the Responses item besides the ledger: the category, the month and time it
    counts at (the ByMonth index that exports and the dashboard read), the themes and the sentiment."""
    analysis = analysis or Analysis()
    return {"category": event.response.category.value, "period_month": period_labels(event.period_time)["month"],
            "period_at": iso(event.period_time), "themes": list(analysis.themes),
            "sentiment": analysis.sentiment}  # fmt: skip


def contribution_of(
    event: ResponseEvent, counting: Counting, segments: Sequence[str] | None = None, themes: Sequence[str] = ()
) -> dict:
    """The aggregate items one revision of a response counts in, with its score (and its comment's themes)."""
    values = segment_values(event.response, segments or counting.segments)
    return contribution(event.response.score, keys_for(values, event.period_time, counting.periods), themes)


def _transactions(
    todo: Sequence[Received], counted: dict, analysis: dict[str, Analysis], counting: Counting, segments: Sequence[str]
) -> list[tuple[list[LedgerEntry], list]]:
    """Group responses so each group's ledgers plus its distinct aggregate items fit in one transaction."""
    groups: list[tuple[list[LedgerEntry], list]] = []
    entries: list[LedgerEntry] = []
    moves: list = []
    keys: set = set()
    for item in todo:
        event = item.event
        rid = event.response.response_id
        found = analysis.get(rid)
        new = contribution_of(event, counting, segments, found.themes if found else ())
        previous = counted.get(rid, (0, None))[1]
        move = deltas(previous, new)
        if entries and len(entries) + 1 + len(keys | move.keys()) > MAX_TRANSACTION_ITEMS:
            groups.append((entries, moves))
            entries, moves, keys = [], [], set()
        attributes = response_attributes(event, found) if counting.publishes_scored else None
        entries.append(LedgerEntry(rid, event.revision, new, previous, attributes))
        moves.append(move)
        keys |= move.keys()
    if entries:
        groups.append((entries, moves))
    return groups
