"""Queued survey invitations and reminders from SQS: mail each through SES once."""

from aws_lambda_powertools import Logger

from npsloop import wiring
from npsloop.envelopes import batch_response, sqs_bodies
from npsloop.surveys.deliver import send_invitations
from npsloop.surveys.links import SurveyJob

logger = Logger(service="npsloop")


@logger.inject_lambda_context
def lambda_handler(event: dict, context: object) -> dict:
    jobs, poison = sqs_bodies(event, SurveyJob)
    config, ports = wiring.send_survey()
    return batch_response(send_invitations(jobs, config, ports) | set(poison))
