"""fetch_response's work: read the full response of a tool that sends only ids from its API, and record it like live
traffic; while the tool's API fails, the message comes back with a growing delay, then goes to the DLQ."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from npsloop.errors import FetchError, NoNpsAnswerError, NpsloopError
from npsloop.ingest import record
from npsloop.mapping import MappingDocument
from npsloop.models import FetchJob
from npsloop.secrets import AppSecret
from npsloop.sources import adapter
from npsloop.stores.archive import RawArchive
from npsloop.stores.fetch_queue import FetchQueue
from npsloop.stores.queue import backoff_seconds
from npsloop.stores.responses import ResponseStore

logger = Logger(child=True)
FIRST_RETRY_SECONDS = 5
LONGEST_RETRY_SECONDS = 900


@dataclass(frozen=True)
class Queued:
    message_id: str
    receipt_handle: str
    receive_count: int
    job: FetchJob


def fetch_batch(
    batch: Sequence[Queued], *, secret: AppSecret, mappings: Callable[[], MappingDocument], archive: RawArchive,
    store: ResponseStore, queue: FetchQueue,
) -> set[str]:  # fmt: skip
    """Fetch and record each job; returns the message ids to try again.

    A fetched response that cannot be mapped is final: its archived delivery is marked rejected (replay it after
    fixing the mapping); a response without an NPS answer is ignored, as live traffic is.
    """
    failed: set[str] = set()
    for item in batch:
        job = item.job
        try:
            response = adapter(job.source).fetch(job, secret.source(job.source), mappings().for_source(job.source))
        except FetchError as exc:
            logger.warning("fetch failed; will retry", extra={"response_id": job.response_id, "problem": str(exc),
                                                              "attempt": item.receive_count})  # fmt: skip
            failed.add(item.message_id)
            _later(queue, item)
            continue
        except NoNpsAnswerError:
            logger.info("fetched response holds no NPS answer", extra={"response_id": job.response_id})
            continue
        except NpsloopError as exc:
            if job.archive_key:
                archive.mark_rejected(job.archive_key, exc.status, type(exc).__name__)
            logger.info("fetched response rejected", extra={"response_id": job.response_id, "status": exc.status,
                                                            "key": job.archive_key})  # fmt: skip
            continue
        try:
            record(response, job.received_at, store=store, historical=job.historical)
        except Exception as exc:
            logger.warning("recording a fetched response failed; will retry",
                           extra={"response_id": job.response_id, "problem": type(exc).__name__})  # fmt: skip
            failed.add(item.message_id)
    return failed


def _later(queue: FetchQueue, item: Queued) -> None:
    """5 s, 10 s, 20 s, … up to 15 min between attempts."""
    delay = backoff_seconds(min(item.receive_count, 30), FIRST_RETRY_SECONDS, LONGEST_RETRY_SECONDS)
    try:
        queue.hold([(item.receipt_handle, delay)])
    except Exception as exc:  # the queue's own visibility timeout brings it back anyway
        logger.warning("could not set the retry delay", extra={"problem": type(exc).__name__})
