"""Held clicks on answer links from SQS (after HOLD_SECONDS): recorded unless a scanner's burst or a later click."""

from aws_lambda_powertools import Logger

from npsloop import wiring
from npsloop.envelopes import batch_response, sqs_bodies
from npsloop.surveys.answer import HeldClick, commit

logger = Logger(service="npsloop")


@logger.inject_lambda_context
def lambda_handler(event: dict, context: object) -> dict:
    held, poison = sqs_bodies(event, HeldClick)
    settings, ports = wiring.answer_survey()
    secret = wiring.secret(settings.secret_arn)
    failed = set(poison)
    for message_id, click in held:
        try:
            commit(click, secret, ports)
        except Exception:  # DynamoDB or Firehose failed: this click comes back, the others are done
            logger.exception("held click could not be decided", extra={"message_id": message_id})
            failed.add(message_id)
    return batch_response(failed)
