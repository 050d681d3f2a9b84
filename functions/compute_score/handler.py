"""The Responses table's stream: count each change exactly once; publish ResponseScored for each new revision."""

from aws_lambda_powertools import Logger

from npsloop import wiring
from npsloop.compute import changes, count_changes

logger = Logger(service="npsloop")


@logger.inject_lambda_context
def lambda_handler(event: dict, context: object) -> dict:
    responses, aggregates, bus = wiring.score()
    retry_from = count_changes(changes(event), aggregates, bus, responses, wiring.sentiment())
    return {"batchItemFailures": [{"itemIdentifier": retry_from}] if retry_from else []}
