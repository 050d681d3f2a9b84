"""ingest_webhook's work: archive, authenticate, parse, store idempotently (the Responses table's stream then brings
the stored revision to compute_score), or queue the ids of tools that send only ids; also the path replay takes
through archived deliveries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from npsloop.errors import ConfigurationError, NoNpsAnswerError, NpsloopError, PayloadTooLargeError, UnprocessableError
from npsloop.mapping import MappingDocument
from npsloop.models import CanonicalResponse, FetchJob, iso
from npsloop.secrets import AppSecret
from npsloop.sources import Delivery, adapter
from npsloop.sources.base import require_media_type
from npsloop.stores.archive import RawArchive
from npsloop.stores.fetch_queue import FetchQueue
from npsloop.stores.responses import ERASED, ResponseStore

logger = Logger(child=True)
SAVE_ATTEMPTS = 5
Mappings = Callable[[], MappingDocument]


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]


class ConcurrentUpdateError(NpsloopError):
    """Other deliveries of the same response kept winning the race; the sender should retry."""

    status = 409


def no_mapping() -> MappingDocument:
    return MappingDocument()


def handshake(source: str) -> Outcome:
    """What a tool asks when a webhook is registered (SurveyMonkey's HEAD, Qualtrics' GET): 200 for a known source."""
    adapter(source)
    return Outcome(200, {"source": source, "accepts": "POST"})


def receive(
    delivery: Delivery, *, secret: AppSecret, archive: RawArchive, store: ResponseStore, max_body: int,
    fetch_queue: FetchQueue | None = None, mappings: Mappings = no_mapping,
) -> Outcome:  # fmt: skip
    """Handle one webhook delivery; every failure a sender can cause raises an NpsloopError with a 4xx status."""
    auth_error: NpsloopError | None = None
    try:
        adapter(delivery.source).verify(delivery, secret.source(delivery.source))
    except NpsloopError as exc:  # unknown source or bad signature: archived apart, under a prefix that expires
        auth_error = exc
    key = archive.put(delivery, authentic=auth_error is None)
    if auth_error is not None:
        logger.info("delivery refused", extra={"source": delivery.source, "status": auth_error.status, "key": key})
        raise auth_error
    return process(delivery, key, archive=archive, store=store, max_body=max_body, fetch_queue=fetch_queue,
                   mappings=mappings)  # fmt: skip


def process(
    delivery: Delivery, key: str, *, archive: RawArchive, store: ResponseStore, max_body: int,
    fetch_queue: FetchQueue | None, mappings: Mappings = no_mapping, historical: bool = False,
) -> Outcome:  # fmt: skip
    """Parse an authentic, archived delivery and record it: live traffic and `npsloop replay` both come here.

    Whatever cannot be parsed is marked rejected in the archive, to be replayed after a fix.
    """
    source = adapter(delivery.source)
    try:
        if len(delivery.body) > max_body:
            raise PayloadTooLargeError(f"body is {len(delivery.body)} bytes; the limit is {max_body}")
        require_media_type(delivery, source.CONTENT_TYPES)
        parsed = source.parse(delivery, mappings().for_source(delivery.source))
    except NoNpsAnswerError as exc:
        logger.info("delivery holds no NPS answer", extra={"source": delivery.source, "key": key})
        return Outcome(202, {"ignored": str(exc)})
    except NpsloopError as exc:  # ConfigurationError too: after the operator's fix, replay brings it back
        archive.mark_rejected(key, exc.status, type(exc).__name__)
        logger.info("delivery rejected", extra={"source": delivery.source, "status": exc.status, "key": key})
        raise
    except Exception as exc:  # an adapter bug must not turn a sender's delivery into a 5xx or lose it
        archive.mark_rejected(key, 422, type(exc).__name__)
        logger.error("adapter failed on a delivery", extra={"source": delivery.source, "key": key,
                                                            "problem": type(exc).__name__})  # fmt: skip
        raise UnprocessableError("the delivery could not be mapped to a response") from None
    if isinstance(parsed, FetchJob):
        if fetch_queue is None:
            raise ConfigurationError(f"{delivery.source} sends only ids, but no fetch queue is configured")
        job = parsed.model_copy(update={"archive_key": key, "historical": historical})
        fetch_queue.enqueue(job)
        logger.info("response queued for fetching", extra={"response_id": job.response_id, "key": key})
        return Outcome(202, {"queued": job.response_id})
    return record(parsed, delivery.received_at, store=store, historical=historical)


def record(
    response: CanonicalResponse, received_at: datetime, *, store: ResponseStore, historical: bool = False
) -> Outcome:
    """Store a response idempotently: a duplicate changes nothing, an older version is stale, a newer one is the next
    revision. The stored write is what compute_score counts (the table's stream); nothing else is published.

    `historical` (imports, old replays) is stored with it: counted and synced, but no alert or task.
    A response erased by `npsloop erase` is not stored again: the answer is 200 `{"erased": true}`.
    """
    new_hash = response.content_hash()
    revision, attempts = 1, 0
    stored = store.create(response, received_at=received_at, historical=historical)  # one call for a new response
    while stored is not None:  # another revision is stored: duplicate, stale, or the next revision
        if stored is ERASED:  # the person asked to be forgotten: keep it so
            logger.info("delivery of an erased response not stored", extra={"response_id": response.response_id})
            return Outcome(200, {"erased": True, "response_id": response.response_id})
        if stored.content_hash == new_hash:
            return Outcome(200, {"duplicate": True, "response_id": response.response_id})
        if iso(response.version_at(received_at)) < stored.version_at:
            return Outcome(200, {"stale": True, "response_id": response.response_id})
        revision, refused = stored.revision + 1, []
        if store.save(response, revision=revision, received_at=received_at, historical=historical, refused=refused):
            break
        attempts += 1
        if attempts == SAVE_ATTEMPTS:
            raise ConcurrentUpdateError("the response changed while it was being stored; please retry")
        revision = 1  # another writer won: decide again against what is stored now
        stored = refused[0] if refused and refused[0] else store.create(response, received_at=received_at,
                                                                          historical=historical)  # fmt: skip
    logger.info("response recorded", extra={"response_id": response.response_id, "revision": revision,
                                            "historical": historical})  # fmt: skip
    return Outcome(202, {"response_id": response.response_id})
