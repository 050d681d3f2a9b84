"""ResponseScored and ResponseLinked from SQS: Zapier fan-out, routed alerts, the promoter thank-you."""

from aws_lambda_powertools import Logger

from npsloop import wiring
from npsloop.envelopes import batch_response, sqs_details
from npsloop.models import LinkedEvent
from npsloop.notify.service import notify_batch

logger = Logger(service="npsloop")


@logger.inject_lambda_context
def lambda_handler(event: dict, context: object) -> dict:
    queued, poison = sqs_details(event, LinkedEvent)  # a ResponseScored detail reads as one with nothing learned
    config, ports = wiring.notify()
    details = [(q.message_id, q.kind, q.detail) for q in queued]
    return batch_response(notify_batch(details, config, ports) | set(poison))
