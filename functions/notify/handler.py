"""ResponseScored from SQS: alert people about detractors."""

from aws_lambda_powertools import Logger

from npsloop import wiring
from npsloop.envelopes import batch_response, sqs_details
from npsloop.models import ScoredEvent
from npsloop.notify.service import notify
from npsloop.notify.slack import ChannelError

logger = Logger(service="npsloop")


@logger.inject_lambda_context
def lambda_handler(event: dict, context: object) -> dict:
    queued, failed = sqs_details(event, ScoredEvent)
    secret = wiring.notify_secret()
    for message in queued:
        try:
            notify(message.detail, secret)
        except ChannelError:
            failed.append(message.message_id)
    return batch_response(failed)
