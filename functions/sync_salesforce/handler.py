"""ResponseScored from SQS, up to 200 at a time: upsert NPS_Response__c records matched to Contacts and Accounts."""

from aws_lambda_powertools import Logger

from npsloop import wiring
from npsloop.envelopes import batch_response, sqs_details
from npsloop.models import ScoredEvent
from npsloop.salesforce.service import sync_messages
from npsloop.stores.dead_letters import DeadLetters

logger = Logger(service="npsloop")


@logger.inject_lambda_context
def lambda_handler(event: dict, context: object) -> dict:
    details, poison = sqs_details(event, ScoredEvent)
    settings, api = wiring.salesforce()
    bodies = {record["messageId"]: record["body"] for record in event["Records"]}
    failed = sync_messages(details, bodies, api, DeadLetters(settings.sync_dlq_url))
    return batch_response(failed | set(poison))
