"""AWS clients, created on first use and kept for the life of the container (never at import time)."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def client(service: str) -> Any:
    """One boto3 client per service and container; boto3 honours AWS_ENDPOINT_URL (the local stack sets it)."""
    import boto3  # imported here so a handler that never calls AWS on a path does not pay for it at import

    return boto3.client(service)


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
    from aws_lambda_powertools.utilities import parameters
    from aws_lambda_powertools.utilities.parameters.base import DEFAULT_PROVIDERS

    if kind not in DEFAULT_PROVIDERS:  # parameters.clear_caches() empties it; the next call makes it again
        provider, service = _PROVIDERS[kind]
        DEFAULT_PROVIDERS[kind] = getattr(parameters, provider)(boto3_client=client(service))
    return parameters
