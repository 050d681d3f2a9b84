"""AWS clients, created on first use and kept for the life of the container (never at import time)."""

from __future__ import annotations

import gc
from functools import cache
from typing import Any


@cache
def client(service: str) -> Any:
    """One boto3 client per service and container; boto3 honours AWS_ENDPOINT_URL (the local stack sets it).

    botocore parses the service's model into tens of thousands of dicts that live as long as the container: the
    collector is paused while it does (each pass would walk them all) and they are frozen after, out of every later
    collection. Together that takes 10 to 25 ms off a cold start."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        import boto3  # imported here so a handler that never calls AWS on a path does not pay for it at import

        return boto3.client(service)
    finally:
        if collecting:
            gc.enable()
        gc.freeze()


class TableStore:
    """A store over one DynamoDB table, on the container's cached client unless one is given (tests, tools)."""

    def __init__(self, table: str, dynamodb: Any | None = None):
        self.table = table
        self._ddb = dynamodb

    @property
    def ddb(self) -> Any:
        return self._ddb or client("dynamodb")

    def batch_get(self, keys: list[dict[str, Any]], **read: Any) -> list[dict[str, Any]]:
        """The items with these keys (BatchGetItem, a hundred a call, until nothing is left unprocessed), eventually
        consistent unless `read` says ConsistentRead; `read` may also name a ProjectionExpression."""
        items: list[dict[str, Any]] = []
        for start in range(0, len(keys), 100):
            request: dict[str, Any] | None = {self.table: {"Keys": keys[start : start + 100], **read}}
            while request:
                result = self.ddb.batch_get_item(RequestItems=request)
                items += result["Responses"].get(self.table, [])
                request = result.get("UnprocessedKeys") or None
        return items


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError (None for anything else)."""
    return getattr(exc, "response", {}).get("Error", {}).get("Code")


def conditional_failed(exc: BaseException) -> bool:
    """A DynamoDB write refused by its condition: another writer won, not a fault."""
    return error_code(exc) == "ConditionalCheckFailedException"


_PROVIDERS = {"secrets": ("SecretsProvider", "secretsmanager"), "ssm": ("SSMProvider", "ssm")}


def parameters(kind: str) -> Any:
    """Powertools' parameters utility, its default `kind` provider ("secrets" or "ssm") made on our cached client:
    one boto3 session per container instead of one more per provider (each costs about 50 ms of cold start)."""
    provider, service = _PROVIDERS[kind]
    made = client(service)  # first, so that boto3 is imported with the collector paused
    from aws_lambda_powertools.utilities import parameters
    from aws_lambda_powertools.utilities.parameters.base import DEFAULT_PROVIDERS

    if kind not in DEFAULT_PROVIDERS:  # parameters.clear_caches() empties it; the next call makes it again
        DEFAULT_PROVIDERS[kind] = getattr(parameters, provider)(boto3_client=made)
    return parameters
