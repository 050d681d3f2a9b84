"""The hourly schedule: queue the survey reminders that are due as of the scheduled event's time."""

from aws_lambda_powertools import Logger

from npsloop import wiring
from npsloop.envelopes import scheduled_time
from npsloop.surveys.remind import queue_reminders

logger = Logger(service="npsloop")


@logger.inject_lambda_context
def lambda_handler(event: dict, context: object) -> dict:
    return queue_reminders(scheduled_time(event), wiring.remind_surveys())
