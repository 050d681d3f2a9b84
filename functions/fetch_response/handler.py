"""Fetch jobs from SQS: read the full response of SurveyMonkey or Qualtrics from its API and record it."""

from aws_lambda_powertools import Logger

from npsloop import wiring
from npsloop.envelopes import batch_response, sqs_fetch_jobs
from npsloop.fetch import fetch_batch

logger = Logger(service="npsloop")


@logger.inject_lambda_context
def lambda_handler(event: dict, context: object) -> dict:
    jobs, poison = sqs_fetch_jobs(event)
    settings, archive, store, queue = wiring.fetch()
    failed = fetch_batch(jobs, secret=wiring.secret(settings.secret_arn), archive=archive, store=store,
                         queue=queue, mappings=lambda: wiring.mapping(settings.mapping_parameter))  # fmt: skip
    return batch_response(failed | set(poison))
