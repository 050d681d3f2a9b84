"""ResponseScored from SQS, up to 200 at a time: NPS records, Contact and Account fields, detractor Tasks."""

from aws_lambda_powertools import Logger

from npsloop import wiring
from npsloop.envelopes import batch_response, sqs_details
from npsloop.models import ScoredEvent
from npsloop.salesforce.service import sync_messages

logger = Logger(service="npsloop")


@logger.inject_lambda_context
def lambda_handler(event: dict, context: object) -> dict:
    queued, poison = sqs_details(event, ScoredEvent)
    ports, config, pacing = wiring.sync()
    return batch_response(sync_messages(queued, ports, config, pacing) | set(poison))
