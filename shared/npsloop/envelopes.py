"""Unwrapping what Lambda is handed: HTTP API v2 events, SQS records carrying EventBridge events, and EventBridge
scheduled events."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ValidationError

if TYPE_CHECKING:  # only ingest makes a Delivery: the SQS-fed functions do not import the sources' base
    from npsloop.sources.base import Delivery

logger = Logger(child=True)
M = TypeVar("M", bound=BaseModel)


def delivery_from_http(event: Mapping[str, Any], source: str) -> Delivery:
    """The raw delivery in an API Gateway HTTP API (payload 2.0) event; the body as the exact bytes sent."""
    from npsloop.sources.base import Delivery

    body = event.get("body") or ""
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode("utf-8")
    epoch_ms = (event.get("requestContext") or {}).get("timeEpoch")
    received = datetime.fromtimestamp(epoch_ms / 1000, UTC) if epoch_ms else datetime.now(UTC)
    return Delivery(
        source=source,
        body=raw,
        headers={k.lower(): v for k, v in (event.get("headers") or {}).items()},
        query=dict(event.get("queryStringParameters") or {}),
        received_at=received,
    )


def scheduled_time(event: Mapping[str, Any]) -> datetime:
    """When an EventBridge schedule (or Scheduler's EventBridge-shaped target input) fired: the event's `time`, in
    UTC. A run that is retried keeps its time, so it decides as the first attempt did."""
    at = datetime.fromisoformat(str(event["time"]))
    return at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Queued(Generic[M]):
    """One response of an SQS record carrying an EventBridge event: its detail parsed, and what redelivery and backoff
    need (shared by the responses of one batched event)."""

    message_id: str
    kind: str  # the event's detail-type, e.g. "ResponseScored"
    detail: M
    body: str
    receipt_handle: str
    receive_count: int


def sqs_details(event: Mapping[str, Any], model: type[M]) -> tuple[list[Queued[M]], list[str]]:
    """Each response of each SQS record holding an EventBridge event, and the ids of records that do not (left for the
    DLQ). A batched event (detail `{"responses": [...]}`, EventBus.publish_batched) gives one Queued per response,
    all with the record's message id; each one's `body` is the event as if published for that response alone (what
    a dead letter keeps)."""
    from npsloop.models import BATCH_KEY

    good: list[Queued[M]] = []
    poison: list[str] = []
    for record in event.get("Records", []):
        try:
            envelope = json.loads(record["body"])
            batch = envelope["detail"].get(BATCH_KEY) if isinstance(envelope["detail"], dict) else None
            details = [model.model_validate(d) for d in batch] if batch is not None else [
                model.model_validate(envelope["detail"])]  # fmt: skip
            receives = int((record.get("attributes") or {}).get("ApproximateReceiveCount", 1))
            good.extend(Queued(record["messageId"], envelope.get("detail-type", ""), detail,
                               record["body"] if batch is None else json.dumps({**envelope, "detail": raw}),
                               record.get("receiptHandle", ""), receives)
                        for detail, raw in zip(details, batch or [None], strict=True))  # fmt: skip
        except (KeyError, TypeError, ValueError, ValidationError) as exc:
            logger.error("unreadable message left for the DLQ", extra={"message_id": record.get("messageId"),
                                                                       "problem": type(exc).__name__})  # fmt: skip
            poison.append(record.get("messageId", ""))
    return good, poison


def sqs_bodies(event: Mapping[str, Any], model: type[M]) -> tuple[list[tuple[str, M]], list[str]]:
    """(message id, body as `model`) of each SQS record whose body is that model's JSON, and the ids of the rest."""
    good: list[tuple[str, M]] = []
    poison: list[str] = []
    for record in event.get("Records", []):
        try:
            good.append((record["messageId"], model.model_validate_json(record["body"])))
        except (KeyError, TypeError, ValueError, ValidationError) as exc:
            logger.error("unreadable message left for the DLQ", extra={"message_id": record.get("messageId"),
                                                                       "problem": type(exc).__name__})  # fmt: skip
            poison.append(record.get("messageId", ""))
    return good, poison


def sqs_fetch_jobs(event: Mapping[str, Any]) -> tuple[list[Any], list[str]]:
    """The fetch jobs of an SQS event (each record's body is a FetchJob), and the ids of records that are not."""
    from npsloop.fetch import Queued
    from npsloop.models import FetchJob

    good: list[Queued] = []
    poison: list[str] = []
    for record in event.get("Records", []):
        try:
            count = int((record.get("attributes") or {}).get("ApproximateReceiveCount", 1))
            job = FetchJob.model_validate_json(record["body"])
            good.append(Queued(record["messageId"], record.get("receiptHandle", ""), count, job))
        except (KeyError, TypeError, ValueError, ValidationError) as exc:
            logger.error("unreadable fetch job left for the DLQ", extra={"message_id": record.get("messageId"),
                                                                         "problem": type(exc).__name__})  # fmt: skip
            poison.append(record.get("messageId", ""))
    return good, poison


def batch_response(failed: set[str] | list[str]) -> dict[str, list[dict[str, str]]]:
    """The ReportBatchItemFailures answer: only these messages come back."""
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in sorted(failed)]}
