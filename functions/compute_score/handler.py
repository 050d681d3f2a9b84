"""ResponseReceived and ResponseLinked from SQS: count each response exactly once; publish ResponseScored."""

from aws_lambda_powertools import Logger

from npsloop import wiring
from npsloop.compute import COUNTING, Received, score_batch
from npsloop.envelopes import batch_response, sqs_details
from npsloop.models import ResponseEvent

logger = Logger(service="npsloop")


@logger.inject_lambda_context
def lambda_handler(event: dict, context: object) -> dict:
    queued, failed = sqs_details(event, ResponseEvent)
    responses, aggregates, bus = wiring.score()
    for kind, counting in COUNTING.items():
        batch = [Received(q.message_id, q.detail) for q in queued if q.kind == kind]
        failed.extend(score_batch(batch, responses, aggregates, bus, counting) if batch else ())
    failed.extend(q.message_id for q in queued if q.kind not in COUNTING)
    return batch_response(failed)
