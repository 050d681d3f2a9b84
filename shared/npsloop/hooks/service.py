"""The hook endpoints' work (subscribe, unsubscribe, recent responses) and deliver_hooks' batch."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from npsloop.aggregation import month_window
from npsloop.errors import MalformedPayloadError, NpsloopError, UnprocessableError
from npsloop.hooks import EVENTS, targets
from npsloop.hooks.delivery import DeliveryMessage, Outcome, Result, Sender, deliver, post
from npsloop.hooks.payload import SAMPLE, events_for, flat
from npsloop.hooks.store import HookStore, Subscription
from npsloop.models import ScoredEvent
from npsloop.notify.config import HooksConfig
from npsloop.stores.notify_state import NotifyState
from npsloop.stores.queue import Queue
from npsloop.stores.scored import ScoredResponses

logger = Logger(child=True)
RECENT_SCAN = 300  # the newest responses a read of recent ones looks through for one event (three index pages)


class NoSuchHookError(NpsloopError):
    status = 404


def check_event(event: Any) -> str:
    if event not in EVENTS:
        raise UnprocessableError(f"event must be one of {', '.join(EVENTS)}", field="event")
    return str(event)


def subscribe(body: Mapping[str, Any], hooks: HookStore, *, created_by: str, allow_loopback: bool,
              resolver: targets.Resolver | None = None) -> Subscription:  # fmt: skip
    """`{"target_url", "event"}` -> a stored subscription; 422 names the field that cannot be used."""
    if not isinstance(body, Mapping):
        raise MalformedPayloadError('the body must be a JSON object: {"target_url": "https://...", "event": "..."}')
    event = check_event(body.get("event"))
    url = body.get("target_url")
    targets.check(url if isinstance(url, str) else "", allow_loopback=allow_loopback, resolver=resolver)
    sub = hooks.add(str(url), event, created_by)
    logger.info("hook subscribed", extra={"subscription": sub.id, "event": event, "by": created_by})
    return sub


def unsubscribe(sub_id: str, hooks: HookStore) -> None:
    if not hooks.delete(sub_id):
        raise NoSuchHookError(f"no hook subscription {sub_id}")
    logger.info("hook unsubscribed", extra={"subscription": sub_id})


def recent(event: str | None, scored: ScoredResponses, limit: int = 50, *, sample_when_empty: bool = False,
           now: datetime | None = None) -> list:  # fmt: skip
    """Recent live responses for an event, newest first by the time they count at, each with a stable `id` (Zapier's
    performList samples and polling): read from the Responses table's ByMonth index (this month and the last),
    looking through at most RECENT_SCAN responses, so no response costs a feed write."""
    kind = check_event(event or "response.created")
    months = month_window(now or datetime.now(UTC), 2)
    out: list[dict[str, Any]] = []
    for seen, row in enumerate(scored.rows(months, "0", "9", newest_first=True, page_size=100)):
        if seen == RECENT_SCAN or len(out) == limit:
            break
        if row.historical:
            continue
        detail = ScoredEvent(revision=row.revision, received_at=row.received_at, response=row.response,
                             category=row.category, themes=list(row.themes), sentiment=row.sentiment)  # fmt: skip
        if kind in events_for(detail):
            out.append({**flat(detail), "event": kind})
    if not out and sample_when_empty:
        return [{**SAMPLE, "event": kind}]
    return out


def deliver_batch(records: Sequence[Mapping[str, Any]], *, hooks: HookStore, state: NotifyState,
                  queue: Queue, dlq: Queue, config: HooksConfig, allow_loopback: bool,
                  send: Sender = post, resolver: targets.Resolver | None = None) -> set[str]:  # fmt: skip
    """Deliver each queued message; returns the ids that must come back (their visibility set to the backoff)."""
    failed: set[str] = set()
    letters: list[tuple[str, dict[str, str]]] = []
    for record in records:
        message_id = record["messageId"]
        try:
            message = DeliveryMessage.model_validate(json.loads(record["body"]))
        except (ValueError, ValidationError):
            letters.append((record["body"], {"ErrorCode": "UNREADABLE", "ErrorMessage": "not a delivery message"}))
            continue
        count = int((record.get("attributes") or {}).get("ApproximateReceiveCount", "1"))
        outcome: Outcome = deliver(message, count, hooks=hooks, state=state, config=config,
                                   allow_loopback=allow_loopback, send=send, resolver=resolver)  # fmt: skip
        logger.info("hook delivery", extra={"subscription": message.subscription_id, "event": message.event,
                                            "webhook_id": message.webhook_id, "attempt": count,
                                            "result": outcome.result.value, "detail": outcome.detail})  # fmt: skip
        if outcome.result is Result.RETRY:
            queue.retry_in(record["receiptHandle"], outcome.delay)
            failed.add(message_id)
        elif outcome.result is Result.REJECTED:
            letters.append((record["body"], {"ErrorCode": f"HTTP_{outcome.detail}",
                                             "ErrorMessage": "the target refused the delivery"}))  # fmt: skip
    dlq.send(letters)
    return failed
