"""AWS clients, created on first use and kept for the life of the container (never at import time), and the
container's cached reads of secrets and parameters."""

from __future__ import annotations

import gc
import json
import os
import time
from collections.abc import Callable
from functools import cache
from typing import Any


@cache
def client(service: str) -> Any:
    """One client per service and container, made by botocore as boto3.client would make it (the same class, the
    same environment: region, credentials, AWS_ENDPOINT_URL, which the local stack sets) without importing boto3,
    whose import (s3transfer among it) costs 15 to 20 ms and which nothing here uses.

    botocore parses the service's model into tens of thousands of dicts that live as long as the container: the
    collector is paused while it does (each pass would walk them all) and they are frozen after, out of every later
    collection. Together that takes 10 to 25 ms off a cold start."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _session().create_client(service)
    finally:
        if collecting:
            gc.enable()
        gc.freeze()


@cache
def _session() -> Any:
    """The container's one botocore session, its loader checking only the service a client is made for
    (`KnownServices`) and parsing models into plain dicts. Imported here so a handler that never calls AWS on a path
    does not pay for it at import."""
    import botocore.loaders
    import botocore.session

    class FileLoader(botocore.loaders.JSONFileLoader):
        def _load_file(self, full_path: str, open_method: Any) -> Any:
            """As botocore's, but into plain dicts (as ordered): its OrderedDict hook nearly doubles the parse of the
            models a first client reads (endpoints.json is 1.2 MB, S3's model 1.4 MB): 10 to 20 ms."""
            if not os.path.isfile(full_path):
                return None
            with open_method(full_path, "rb") as fp:
                return json.loads(fp.read().decode("utf-8"))

    class Loader(botocore.loaders.Loader):
        FILE_LOADER_CLASS = FileLoader

        def list_available_services(self, type_name: str) -> KnownServices:
            return KnownServices(self, type_name, super().list_available_services)

    core = botocore.session.get_session()
    paths = core.get_config_variable("data_path")  # AWS_DATA_PATH, read as botocore.loaders.create_loader does
    extra = [os.path.expanduser(os.path.expandvars(p)) for p in paths.split(os.pathsep)] if paths is not None else None
    core.register_component("data_loader", Loader(extra_search_paths=extra))
    return core


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

    def write_if(self, operation: str, **request: Any) -> bool:
        """One conditional write (`put_item`, `update_item`, `delete_item` with a ConditionExpression) on this
        table: False when its condition refused it (another writer won), any other failure raised."""
        try:
            getattr(self.ddb, operation)(TableName=self.table, **request)
        except Exception as exc:
            if conditional_failed(exc):
                return False
            raise
        return True

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


def secret_json(secret_id: str, max_age: float) -> Any:
    """A Secrets Manager secret's JSON value, read at most once per `max_age` seconds per container (so a rotated
    value is picked up without a deploy); the same object is handed out until then. Not JSON: ValueError."""

    def read() -> Any:
        value = client("secretsmanager").get_secret_value(SecretId=secret_id)
        return json.loads(value["SecretString"] if "SecretString" in value else value["SecretBinary"])

    return _cached(("secretsmanager", secret_id), max_age, read)


def parameter(name: str, max_age: float) -> str:
    """An SSM parameter's value, read at most once per `max_age` seconds per container."""
    return _cached(("ssm", name), max_age, lambda: client("ssm").get_parameter(Name=name)["Parameter"]["Value"])


_read: dict[tuple[str, str], tuple[float, Any]] = {}


def _cached(key: tuple[str, str], max_age: float, read: Callable[[], Any]) -> Any:
    now = time.monotonic()
    if key not in _read or _read[key][0] <= now:
        _read[key] = (now + max_age, read())
    return _read[key][1]


def clear_cache() -> None:
    """Forget what secret_json and parameter read (tests and tools that change them)."""
    _read.clear()
