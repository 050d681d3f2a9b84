"""ResponseScored from SQS: Zapier fan-out, routed alerts, the promoter thank-you."""

from aws_lambda_powertools import Logger

from npsloop import wiring
from npsloop.envelopes import batch_response, sqs_details
from npsloop.models import ScoredEvent
from npsloop.notify.service import notify_batch

logger = Logger(service="npsloop")


@logger.inject_lambda_context
def lambda_handler(event: dict, context: object) -> dict:
    queued, poison = sqs_details(event, ScoredEvent)
    config, ports = wiring.notify()
    return batch_response(notify_batch([(q.message_id, q.detail) for q in queued], config, ports) | set(poison))
