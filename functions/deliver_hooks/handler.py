"""Queued hook deliveries from SQS: sign, send, back off, unsubscribe on 410."""

from aws_lambda_powertools import Logger

from npsloop import wiring
from npsloop.envelopes import batch_response
from npsloop.hooks.service import deliver_batch

logger = Logger(service="npsloop")


@logger.inject_lambda_context
def lambda_handler(event: dict, context: object) -> dict:
    settings, hooks, state, queue, dlq = wiring.deliver()
    config = wiring.secret(settings.secret_arn).hooks
    failed = deliver_batch(event.get("Records", []), hooks=hooks, state=state, queue=queue, dlq=dlq, config=config,
                           allow_loopback=settings.allow_loopback_targets)  # fmt: skip
    return batch_response(failed)
