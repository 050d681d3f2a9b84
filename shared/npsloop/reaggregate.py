"""Rebuild what every stored response counts for in the Aggregates table, after a segment, a period kind or the
theme taxonomy changed, while live traffic goes on being counted exactly once.

How it stays exact: the Aggregates table is, at every moment, the sum of the contributions recorded in the
responses' ledgers (`counted`), because compute_score only ever moves counts in the same transaction that changes a
ledger. Reaggregation keeps that invariant instead of building a second table: for each response counted at its
latest revision, it computes the contribution the current code gives it (segments, periods, themes), and moves the
counts from the recorded contribution to the new one in one transaction that also rewrites the ledger, on the
condition that the ledger is still exactly what was read (same revision, same contribution). compute_score's own
writes carry the same condition, so whichever of the two comes second fails, re-reads and recomputes: a response is
never moved twice from the same ledger. Responses not counted yet, or with a newer revision on its way, are left to
compute_score, which counts them with the current code anyway. Running it twice, or two at once, is harmless: the
second finds every ledger already current. We chose this over "build a fresh generation, then switch" because a
switch needs live writes to go to both generations for the duration of the rebuild (or a pause in traffic), and
the ledger already gives a per-response, transactional hand-over.

Sentiment is left as it is (no Comprehend calls); Salesforce keeps the themes it was sent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aws_lambda_powertools import Logger

from npsloop.aggregation import contribution, deltas, keys_for, merge, period_labels, segment_values
from npsloop.analysis.themes import Taxonomy
from npsloop.compute import RESPONSES
from npsloop.models import iso, utc
from npsloop.stores.aggregates import MAX_TRANSACTION_ITEMS, AggregateStore, LedgerEntry
from npsloop.stores.ledgers import LedgerRow, LedgerScan

logger = Logger(child=True)
ATTEMPTS = 5
REQUIRED_ATTRIBUTES = ("category", "period_month", "period_at", "themes")


@dataclass
class Progress:
    seen: int = 0
    recounted: int = 0  # moved to a new contribution
    current: int = 0  # already counted as the current code counts it
    not_counted: int = 0  # compute_score has not counted it (yet): it will, with the current code
    newer_pending: int = 0  # a newer revision is on its way to compute_score
    gave_up: list[str] = field(default_factory=list)  # kept changing under us (reported; run again)


def planned(row: LedgerRow, segments: Sequence[str], taxonomy: Taxonomy) -> LedgerEntry | None:
    """The ledger entry that recounts `row` with the current code, or None when there is nothing to change."""
    if row.counted is None or row.counted_revision != row.revision:
        return None
    r = row.response
    at = r.responded_at or utc(row.received_at)
    themes = taxonomy.themes_of(r.comment)
    new = contribution(r.score, keys_for(segment_values(r, segments), at), themes)
    if new == row.counted and all(a in row.attributes for a in REQUIRED_ATTRIBUTES):
        return None
    attributes = {"category": r.category.value, "period_month": period_labels(at)["month"], "period_at": iso(at),
                  "themes": themes}  # fmt: skip
    return LedgerEntry(r.response_id, row.revision, new, row.counted, attributes)


def reaggregate(scan: LedgerScan, store: AggregateStore, segments: Sequence[str], taxonomy: Taxonomy,
                on_progress: Callable[[int], None] | None = None, page_size: int = 100) -> Progress:  # fmt: skip
    progress = Progress()
    for page in scan.pages(page_size):
        todo: list[LedgerEntry] = []
        for row in page:
            entry = planned(row, segments, taxonomy)
            if entry is not None:
                todo.append(entry)
            elif row.counted is None:
                progress.not_counted += 1
            elif row.counted_revision != row.revision:
                progress.newer_pending += 1
            else:
                progress.current += 1
        for group in _groups(todo):
            if store.recount(RESPONSES.ledger, group, merge(deltas(e.previous, e.contribution) for e in group)):
                progress.recounted += len(group)
            else:  # someone (compute_score) changed a ledger meanwhile: one by one, from a fresh read
                for entry in group:
                    _one(entry.response_id, scan, store, segments, taxonomy, progress)
        progress.seen += len(page)
        if on_progress:
            on_progress(len(page))
    logger.info("reaggregated", extra={"seen": progress.seen, "recounted": progress.recounted})
    return progress


def _one(response_id: str, scan: LedgerScan, store: AggregateStore, segments: Sequence[str], taxonomy: Taxonomy,
         progress: Progress) -> None:  # fmt: skip
    for _ in range(ATTEMPTS):
        row = scan.get(response_id)
        entry = planned(row, segments, taxonomy) if row else None
        if entry is None:
            progress.current += 1
            return
        if store.recount(RESPONSES.ledger, [entry], deltas(entry.previous, entry.contribution)):
            progress.recounted += 1
            return
    progress.gave_up.append(response_id)


def _groups(entries: Sequence[LedgerEntry]) -> list[list[LedgerEntry]]:
    groups: list[list[LedgerEntry]] = []
    current: list[LedgerEntry] = []
    keys: set = set()
    for entry in entries:
        move = deltas(entry.previous, entry.contribution)
        if current and len(current) + 1 + len(keys | move.keys()) > MAX_TRANSACTION_ITEMS:
            groups.append(current)
            current, keys = [], set()
        current.append(entry)
        keys |= move.keys()
    if current:
        groups.append(current)
    return groups
