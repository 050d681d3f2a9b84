"""sync_salesforce's work: sync a batch in two calls, store the links, keep account NPS, send refusals to the DLQ."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from aws_lambda_powertools import Logger

from npsloop.aggregation import month_window, period_labels
from npsloop.calls import side_by_side
from npsloop.envelopes import Queued
from npsloop.models import LinkedEvent, ScoredEvent
from npsloop.salesforce.client import SalesforceAuthError, SalesforceClient, SalesforceError
from npsloop.salesforce.sync import (
    COLLECTION_SIZE,
    LookupPlan,
    Match,
    SyncConfig,
    latest_revisions,
    look_up,
    match,
    now_utc,
    plan_writes,
    write,
)
from npsloop.scoring import Counts
from npsloop.stores.bus import EventBus
from npsloop.stores.queue import Queue, backoff_seconds
from npsloop.stores.responses import AccountCounts, ResponseStore, SyncedTo

logger = Logger(child=True)


@dataclass(frozen=True)
class SyncPorts:
    api: SalesforceClient
    dlq: Queue
    queue: Queue
    responses: ResponseStore
    accounts: AccountCounts
    bus: EventBus


@dataclass(frozen=True)
class Pacing:
    api_share: float = 0.5  # of the org's daily allowance, past which the sync slows down
    backoff_seconds: int = 5
    backoff_max_seconds: int = 900


def linked(event: ScoredEvent, m: Match) -> LinkedEvent:
    """The response as the sync learned it: on the matched Contact and Account, with the person's email opt-out
    and consent from the same lookup (ResponseLinked's detail)."""
    response = event.response.model_copy(update={"contact_id": m.contact_id, "account_id": m.account_id})
    return LinkedEvent(**{**dict(event), "response": response, "email_opted_out": m.email_opted_out,
                          "marketing_consent": m.marketing_consent})  # fmt: skip


def account_nps(
    latest: Mapping[str, ScoredEvent], matches: Mapping[str, Match], accounts: AccountCounts, now: datetime
) -> dict[str, tuple[float | None, int]]:  # fmt: skip
    """Each matched account's NPS over the last 12 months, this batch included: the responses the ByAccount index
    links to it, each once, with this batch's own as the sync is about to store them (a response of the batch
    counts for the account it matches now, with its latest answer)."""
    window = month_window(now)
    matched = sorted({m.account_id for m in matches.values() if m.account_id})
    found = side_by_side(lambda account: accounts.scores(account, window[0], window[-1] + "~"), matched)  # a Query each
    out = {}
    for account, scores in zip(matched, found, strict=True):
        scores = {rid: score for rid, (score, _) in scores.items()}
        for rid, event in latest.items():
            scores.pop(rid, None)
            if matches[rid].account_id == account and period_labels(event.period_time)["month"] in window:
                scores[rid] = event.response.score
        counts = Counts.of(scores.values())
        out[account] = (counts.nps, counts.responses)
    return out


def sync_messages(
    queued: Sequence[Queued[ScoredEvent]], ports: SyncPorts, config: SyncConfig, pacing: Pacing
) -> set[str]:
    """Returns the ids of messages that must come back; records refused for good count as processed once in the DLQ.

    A message holds one response or a batched event of many; they are synced in chunks of whole messages of about
    COLLECTION_SIZE responses, each chunk in two calls.
    """
    failed: set[str] = set()
    for chunk in _chunks(queued):
        failed |= _sync_chunk(chunk, ports, config, pacing)
    return failed


def _chunks(queued: Sequence[Queued[ScoredEvent]]) -> list[list[Queued[ScoredEvent]]]:
    chunks: list[list[Queued[ScoredEvent]]] = []
    by_message: dict[str, list[Queued[ScoredEvent]]] = {}
    for q in queued:
        by_message.setdefault(q.message_id, []).append(q)
    for items in by_message.values():
        if not chunks or len(chunks[-1]) + len(items) > COLLECTION_SIZE:
            chunks.append([])
        chunks[-1].extend(items)
    return chunks


def _sync_chunk(
    queued: Sequence[Queued[ScoredEvent]], ports: SyncPorts, config: SyncConfig, pacing: Pacing
) -> set[str]:
    if not queued:
        return set()
    if ports.api.usage and ports.api.usage[0] >= pacing.api_share * ports.api.usage[1]:
        used, total = ports.api.usage
        logger.warning("Salesforce API usage past the configured share; holding the batch back",
                       extra={"used": used, "allocation": total, "share": pacing.api_share})  # fmt: skip
        return _retry_later(queued, ports, pacing, hold=pacing.backoff_max_seconds)
    latest = latest_revisions(q.detail for q in queued)
    stored = ports.responses.links(list(latest))
    superseded = [rid for rid, event in latest.items() if rid in stored and stored[rid].revision > event.revision]
    if superseded:  # a newer revision is stored: its own ResponseScored syncs it; an older one must not overwrite it
        logger.info("older revisions not synced: a newer one is stored", extra={"responses": len(superseded)})
        for rid in superseded:
            del latest[rid]
        if not latest:
            return set()
    now = now_utc()
    try:
        found = look_up(LookupPlan.of(latest.values(), config), ports.api, config)
        matches = {rid: match(event, found, config.consent_field) for rid, event in latest.items()}
        plan = plan_writes(latest, matches, found, account_nps(latest, matches, ports.accounts, now), config, now)
        outcome = write(plan, matches, ports.api)
    except SalesforceAuthError as exc:
        logger.error("Salesforce refused the integration's credentials: fix the secret or the connected app",
                     extra={"code": exc.code, "salesforce_message": exc.message})  # fmt: skip
        raise
    except SalesforceError as exc:
        logger.warning("Salesforce call failed; the batch comes back later",
                       extra={"code": exc.code, "status": exc.status, "messages": len(queued)})  # fmt: skip
        return _retry_later(queued, ports, pacing)

    ports.bus.publish_batched("ResponseLinked", [linked(latest[rid], m).model_dump(mode="json")
                                                 for rid, m in outcome.synced.items()])  # fmt: skip
    ports.responses.record_links({rid: (latest[rid].revision, SyncedTo(m.contact_id, m.account_id,
                                                                       outcome.record_ids.get(rid)))
                                  for rid, m in outcome.synced.items()}, stored)  # fmt: skip
    letters = []
    for q in queued:
        error = outcome.rejected.get(q.detail.response.response_id)
        if error is not None:
            letters.append((q.body, {"ErrorCode": error.code, "ErrorMessage": error.message}))
            logger.warning("Salesforce rejected a record; sent to the DLQ",
                           extra={"response_id": q.detail.response.response_id, "code": error.code})  # fmt: skip
    ports.dlq.send(letters)
    for error in outcome.side_errors:  # codes only: a record-level message can quote a field value (an email)
        logger.error("Salesforce refused a Contact, Account, Task or Lead write", extra={"code": error.code})
    retry = [q for q in queued if q.detail.response.response_id in outcome.retry]
    counts = {"synced": len(outcome.synced), "rejected": len(outcome.rejected), "retry": len(retry)}
    logger.info("batch synced", extra={**counts, "tasks": len(plan.tasks), "api_usage": ports.api.usage})
    return _retry_later(retry, ports, pacing) if retry else set()


def _retry_later(
    queued: Sequence[Queued[ScoredEvent]], ports: SyncPorts, pacing: Pacing, hold: int | None = None
) -> set[str]:
    """Back off: each message stays invisible for a time that doubles with its receive count (the responses of one
    batched event share their message)."""
    ports.queue.hold(list({q.receipt_handle: hold if hold is not None else
                           backoff_seconds(q.receive_count, pacing.backoff_seconds, pacing.backoff_max_seconds)
                           for q in queued}.items()))  # fmt: skip
    return {q.message_id for q in queued}
