"""ResponseReceived from SQS: classify, count exactly once in the aggregates, publish ResponseScored."""

from aws_lambda_powertools import Logger

from npsloop import wiring
from npsloop.compute import Received, score_batch
from npsloop.envelopes import batch_response, sqs_details
from npsloop.models import ResponseEvent

logger = Logger(service="npsloop")


@logger.inject_lambda_context
def lambda_handler(event: dict, context: object) -> dict:
    details, poison = sqs_details(event, ResponseEvent)
    responses, aggregates, bus = wiring.score()
    failed = score_batch([Received(mid, detail) for mid, detail in details], responses, aggregates, bus,
                         wiring.analyzer(), wiring.counted_segments())  # fmt: skip
    return batch_response(failed | set(poison))
