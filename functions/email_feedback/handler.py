"""SES bounce and complaint notifications from SQS (via SNS): put the addresses on the opt-out list."""

from aws_lambda_powertools import Logger

from npsloop import wiring
from npsloop.email_feedback import handle
from npsloop.envelopes import batch_response

logger = Logger(service="npsloop")


@logger.inject_lambda_context
def lambda_handler(event: dict, context: object) -> dict:
    return batch_response(handle(event.get("Records", []), wiring.email_feedback()))
