"""AWS clients, created on first use and kept for the life of the container (never at import time)."""

from __future__ import annotations

import gc
import os
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
        return _session().client(service)
    finally:
        if collecting:
            gc.enable()
        gc.freeze()


@cache
def _session() -> Any:
    """The container's one boto3 session (as boto3's default one: environment, credentials, AWS_ENDPOINT_URL), its
    botocore loader checking only the service a client is made for (`KnownServices`)."""
    import boto3  # imported here so a handler that never calls AWS on a path does not pay for it at import
    import botocore.loaders
    import botocore.session

    class Loader(botocore.loaders.Loader):
        def list_available_services(self, type_name: str) -> KnownServices:
            return KnownServices(self, type_name, super().list_available_services)

    core = botocore.session.get_session()
    paths = core.get_config_variable("data_path")  # AWS_DATA_PATH, read as botocore.loaders.create_loader does
    extra = [os.path.expanduser(os.path.expandvars(p)) for p in paths.split(os.pathsep)] if paths is not None else None
    core.register_component("data_loader", Loader(extra_search_paths=extra))
    return boto3.Session(botocore_session=core)


class KnownServices:
    """What botocore's Loader.list_available_services(type_name) returns here. botocore asks it once per model type
    before it loads a service's model, only to check the service exists, and lists every service to answer: about
    400 directories, 8 to 10 ms per type, two types (model, endpoint rules) on a first client. `name in` this
    checks that service's directory alone; iterating it (the error's list of known services) is the full listing."""

    def __init__(self, loader: Any, type_name: str, listing: Any):
        self.loader, self.type_name, self.listing = loader, type_name, listing

    def __contains__(self, service: object) -> bool:
        from botocore.exceptions import DataNotFoundError

        try:
            return bool(self.loader.list_api_versions(service, self.type_name))  # cached: the model's version next
        except DataNotFoundError:
            return False

    def __iter__(self) -> Any:
        return iter(self.listing(self.type_name))


class TableStore:
    """A store over one DynamoDB table, on the container's cached client unless one is given (tests, tools)."""

    def __init__(self, table: str, dynamodb: Any | None = None):
        self.table = table
        self._ddb = dynamodb

    @property
    def ddb(self) -> Any:
        return self._ddb or client("dynamodb")


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
