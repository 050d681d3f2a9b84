"""Delivering one queued hook message: signed with Standard Webhooks headers, to the checked address, no redirects.

Outcomes: a 2xx is delivered; a 410 deletes the subscription (Zapier's "unsubscribed"); timeouts, connection
errors, 429 and 5xx come back later with exponential backoff (the queue's visibility is set to the delay); any
other answer (3xx included: redirects are never followed) goes to the DLQ with its status, as does a message
that keeps failing (the queue's redrive policy).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import certifi
import urllib3
from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict
from standardwebhooks import Webhook

from npsloop.hooks import targets
from npsloop.hooks.store import HookStore
from npsloop.notify.config import HooksConfig
from npsloop.stores.notify_state import NotifyState
from npsloop.stores.queue import backoff_seconds

logger = Logger(child=True)
USER_AGENT = "npsloop-webhooks/1"
RATE_WAIT_SECONDS = 3.0


class DeliveryMessage(BaseModel):
    """The body of one deliveries-queue message: one subscription, one response, one event."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    webhook_id: str
    subscription_id: str
    event: str
    payload: dict[str, Any]


class Result(Enum):
    DELIVERED = "delivered"
    GONE = "gone"  # 410: the subscription was deleted
    DROPPED = "dropped"  # the subscription no longer exists: nothing to do
    RETRY = "retry"
    REJECTED = "rejected"  # an answer that retrying cannot change: to the DLQ


@dataclass(frozen=True)
class Outcome:
    result: Result
    detail: str
    delay: int = 0  # seconds before the next try (RETRY)


@dataclass(frozen=True)
class Answer:
    status: int
    retry_after: str | None = None


Sender = Callable[[targets.Target, str, bytes, dict[str, str], float], Answer]


def post(target: targets.Target, address: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST to `address` (already checked) with the URL's host for Host, SNI and certificate checks."""
    kwargs: dict[str, Any] = {"timeout": urllib3.Timeout(connect=min(timeout, 5), read=timeout), "retries": False}
    if target.scheme == "https":
        pool: Any = urllib3.HTTPSConnectionPool(address, target.port, server_hostname=target.host,
                                                assert_hostname=target.host, cert_reqs="CERT_REQUIRED",
                                                ca_certs=certifi.where(), **kwargs)  # fmt: skip
    else:
        pool = urllib3.HTTPConnectionPool(address, target.port, **kwargs)
    try:
        response = pool.urlopen("POST", target.path, body=body, headers={**headers, "Host": target.host_header},
                                redirect=False, retries=False, preload_content=True)  # fmt: skip
        return Answer(response.status, response.headers.get("Retry-After"))
    finally:
        pool.close()


def backoff(receive_count: int, config: HooksConfig) -> int:
    """Seconds before try number `receive_count + 1`: base, 2x base, 4x base, ... at most the configured cap."""
    return int(backoff_seconds(receive_count, config.retry_base_seconds, config.max_delay_seconds)) or 1


def deliver(message: DeliveryMessage, receive_count: int, *, hooks: HookStore, state: NotifyState,
            config: HooksConfig, allow_loopback: bool, send: Sender = post,
            resolver: targets.Resolver | None = None) -> Outcome:  # fmt: skip
    sub = hooks.get(message.subscription_id)
    if sub is None:
        return Outcome(Result.DROPPED, "the subscription no longer exists")
    try:
        target = targets.parse(sub.target_url, allow_loopback=allow_loopback)
        address = targets.resolve(target, allow_loopback=allow_loopback, resolver=resolver)
    except targets.UnsafeTargetError as exc:
        return Outcome(Result.RETRY, f"target refused: {exc.message}", backoff(receive_count, config))
    # per target URL: each Zapier hook has its own 30/s limit, and all of them share one host
    if not _wait_for_slot(state, sub.target_url, config.per_second):
        return Outcome(Result.RETRY, "rate limit of the target", 1)
    body = json.dumps(message.payload, separators=(",", ":")).encode()
    now = datetime.now(UTC)
    headers = {
        "content-type": "application/json", "user-agent": USER_AGENT, "webhook-id": message.webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(sub.secret).sign(message.webhook_id, now, body.decode()),
    }  # fmt: skip
    try:
        answer = send(target, address, body, headers, config.timeout_seconds)
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        return Outcome(Result.RETRY, f"unreachable: {type(exc).__name__}", backoff(receive_count, config))
    if 200 <= answer.status < 300:
        return Outcome(Result.DELIVERED, str(answer.status))
    if answer.status == 410:
        hooks.delete(sub.id)
        return Outcome(Result.GONE, "410: subscription deleted")
    if answer.status == 429 or answer.status >= 500:
        delay = backoff(receive_count, config)
        if answer.status == 429 and (answer.retry_after or "").isdigit():
            delay = min(max(delay, int(answer.retry_after or 0)), config.max_delay_seconds)
        return Outcome(Result.RETRY, str(answer.status), delay)
    return Outcome(Result.REJECTED, str(answer.status))


def _wait_for_slot(state: NotifyState, target: str, per_second: int) -> bool:
    deadline = time.monotonic() + RATE_WAIT_SECONDS
    while not state.take(target, per_second):
        if time.monotonic() > deadline:
            return False
        time.sleep(1.02 - time.time() % 1)  # the next second's bucket
    return True
