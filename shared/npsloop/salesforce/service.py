"""sync_salesforce's work: sync a batch, send records Salesforce rejects for good to the DLQ, retry the rest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_lambda_powertools import Logger

from npsloop.models import ScoredEvent
from npsloop.salesforce.client import SalesforceClient, SalesforceError
from npsloop.salesforce.sync import sync
from npsloop.stores.dead_letters import DeadLetters

logger = Logger(child=True)


def sync_messages(
    details: Sequence[tuple[str, ScoredEvent]], bodies: Mapping[str, str], api: SalesforceClient, dlq: DeadLetters
) -> set[str]:
    """Returns the ids of messages that must come back; rejected records count as processed once in the DLQ."""
    if not details:
        return set()
    try:
        outcome = sync([event for _, event in details], api)
    except SalesforceError as exc:
        logger.error("Salesforce call failed; the batch stays queued",
                     extra={"code": exc.code, "status": exc.status, "messages": len(details)})  # fmt: skip
        return {message_id for message_id, _ in details}
    letters = []
    failed: set[str] = set()
    for message_id, event in details:
        rid = event.response.response_id
        if rid in outcome.rejected:
            error = outcome.rejected[rid]
            letters.append((bodies[message_id], {"ErrorCode": error.code, "ErrorMessage": error.message}))
            logger.warning("Salesforce rejected a record; sent to the DLQ",
                           extra={"response_id": rid, "code": error.code})  # fmt: skip
        elif rid in outcome.retry:
            failed.add(message_id)
    dlq.send(letters)
    logger.info("batch synced", extra={"synced": len(outcome.synced), "rejected": len(outcome.rejected),
                                       "retry": len(outcome.retry), "api_usage": api.usage})  # fmt: skip
    return failed
