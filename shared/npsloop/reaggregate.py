"""Recount every stored response after a segment or the theme taxonomy changed, while live traffic goes on being
counted exactly once.

How it stays exact: each Responses item holds the basis it counts for (score, time, segment values, themes,
account), and compute_score moves the Aggregates table by the difference between the old and the new basis of
every change the table's stream hands over. Reaggregation only rewrites bases: for each stored response it computes
the basis the current configuration gives it and, when that differs from the stored one, writes it on condition
that the revision is still the one read (a newer revision arriving meanwhile is stored with the current
configuration anyway). The stream then moves the counts, exactly once, like any other change. Running it twice, or
two at once, is harmless: the second finds every basis current.

Sentiment is left as it is (no Comprehend calls); Salesforce keeps the themes it was sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from aws_lambda_powertools import Logger

from npsloop.stores.responses import Counting, ResponseScan, ScannedResponse

logger = Logger(child=True)
ATTEMPTS = 5


@dataclass
class Progress:
    seen: int = 0
    recounted: int = 0  # its basis rewritten: compute_score moves its counts
    current: int = 0  # already stored as the current configuration counts it
    gave_up: list[str] = field(default_factory=list)  # a newer revision kept arriving (reported; run again)


def reaggregate(scan: ResponseScan, counting: Counting, on_progress: Callable[[int], None] | None = None,
                page_size: int = 100) -> Progress:  # fmt: skip
    progress = Progress()
    for page in scan.pages(page_size):
        for row in page:
            _one(row, scan, counting, progress)
        progress.seen += len(page)
        if on_progress:
            on_progress(len(page))
    logger.info("reaggregated", extra={"seen": progress.seen, "recounted": progress.recounted})
    return progress


def _one(row: ScannedResponse | None, scan: ResponseScan, counting: Counting, progress: Progress) -> None:
    """Rewrite one response's basis if the configuration counts it differently; when a newer revision was stored
    meanwhile, decide again for that one (it was most likely stored with the current configuration already)."""
    for _ in range(ATTEMPTS):
        if row is None:  # erased meanwhile: its basis stays as it was counted
            progress.current += 1
            return
        wanted = counting.basis(row.response, row.received_at)
        if wanted == row.basis:
            progress.current += 1
            return
        if scan.rewrite(row.response.response_id, row.revision, wanted):
            progress.recounted += 1
            return
        row = scan.get(row.response.response_id)
    progress.gave_up.append(row.response.response_id if row else "?")
