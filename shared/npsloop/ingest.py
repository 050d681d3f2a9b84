"""ingest_webhook's work: archive, authenticate, parse, store idempotently, publish ResponseReceived."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from npsloop.errors import NoNpsAnswerError, NpsloopError, PayloadTooLargeError
from npsloop.models import CanonicalResponse, ResponseEvent, iso
from npsloop.secrets import AppSecret
from npsloop.sources import Delivery, adapter
from npsloop.stores.archive import RawArchive
from npsloop.stores.bus import EventBus
from npsloop.stores.responses import ResponseStore

logger = Logger(child=True)
SAVE_ATTEMPTS = 5


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]


class ConcurrentUpdateError(NpsloopError):
    """Other deliveries of the same response kept winning the race; the sender should retry."""

    status = 409


def receive(
    delivery: Delivery, *, secret: AppSecret, archive: RawArchive, store: ResponseStore, bus: EventBus, max_body: int
) -> Outcome:
    """Handle one webhook delivery; every failure a sender can cause raises an NpsloopError with a 4xx status."""
    auth_error: NpsloopError | None = None
    try:
        source = adapter(delivery.source)
        source.verify(delivery, secret.source(delivery.source))
    except NpsloopError as exc:  # unknown source or bad signature: archived apart, under a prefix that expires
        auth_error = exc
    key = archive.put(delivery, authentic=auth_error is None)
    if auth_error is not None:
        logger.info("delivery refused", extra={"source": delivery.source, "status": auth_error.status, "key": key})
        raise auth_error
    try:
        if len(delivery.body) > max_body:
            raise PayloadTooLargeError(f"body is {len(delivery.body)} bytes; the limit is {max_body}")
        response = source.parse(delivery)
    except NoNpsAnswerError as exc:
        logger.info("delivery holds no NPS answer", extra={"source": delivery.source, "key": key})
        return Outcome(202, {"ignored": str(exc)})
    except NpsloopError as exc:
        archive.mark_rejected(key, exc.status, type(exc).__name__)
        logger.info("delivery rejected", extra={"source": delivery.source, "status": exc.status, "key": key})
        raise
    return record(response, delivery.received_at, store=store, bus=bus)


def record(
    response: CanonicalResponse, received_at: datetime, *, store: ResponseStore, bus: EventBus, historical: bool = False
) -> Outcome:
    """Store a response idempotently and publish it: duplicates publish nothing, older versions are stale."""
    new_hash = response.content_hash()
    for _ in range(SAVE_ATTEMPTS):
        stored = store.get(response.response_id)
        if stored is not None and stored.content_hash == new_hash:
            if stored.published:
                return Outcome(200, {"duplicate": True, "response_id": response.response_id})
            # stored but never published (a crash between store and publish): publish it now
            revision, received_at, historical = stored.revision, datetime.fromisoformat(stored.received_at), False
            break
        if stored is not None and iso(response.version_at(received_at)) < stored.version_at:
            return Outcome(200, {"stale": True, "response_id": response.response_id})
        revision = 1 if stored is None else stored.revision + 1
        if store.save(response, revision=revision, received_at=received_at, historical=historical):
            break
    else:
        raise ConcurrentUpdateError("the response changed while it was being stored; please retry")
    event = ResponseEvent(revision=revision, received_at=received_at, historical=historical, response=response)
    bus.publish([("ResponseReceived", event.model_dump(mode="json"))])
    store.mark_published(response.response_id, revision)
    logger.info("response recorded", extra={"response_id": response.response_id, "revision": revision})
    return Outcome(202, {"response_id": response.response_id})
