"""The moto server of the local stack, in its own process: moto's WSGI app, DynamoDB calls taken one at a time.

Its own process gives moto a core of its own (the stack's process serves HTTP and polls queues).

moto's DynamoDB backend is not safe under concurrent requests: a TransactWriteItems copies the tables while
another thread writes to them ("dictionary changed size during iteration" → HTTP 500). Real DynamoDB has no
such limit, so the local stack serialises DynamoDB calls (each takes a millisecond or two), DynamoDB Streams
reads with them (a read must not see a record a failing transaction is about to take back), and leaves every
other service concurrent, SQS long polls included.
"""

from __future__ import annotations

import argparse
import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from npsloop_local.meter import Meter, middleware
from npsloop_local.meter import install as install_meter

ITERATOR_LIFETIME_S = 15 * 60  # how long a DynamoDB Streams shard iterator stays valid


class _DynamoDbOneAtATime:
    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):  # DynamoDB_ and DynamoDBStreams_
            return self.app(environ, start_response)
        with self.lock:
            return list(self.app(environ, start_response))


def patch_eventbridge_envelope() -> None:
    """moto leaves out the envelope's "account" (reference/moto-and-sam.md §3.1); real EventBridge sends it."""
    from moto.events.utils import EventTemplateParser

    template = EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE
    if '"account"' not in template:
        EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE = template.replace(
            '"source": "<source>",', '"source": "<source>", "account": "<account>",'
        )


def patch_dynamodb_transactions() -> None:
    """moto's TransactWriteItems deep-copies every table it touches, to roll back on failure: a cost that grows with
    the table, so the local pipeline slowed down as its tables filled (most of moto's time after 1,000 responses).

    Here the backend's table copy is the table itself, and the items the transaction names are copied instead and
    put back when it fails: the same all-or-nothing outcome at a cost of one item per operation. The stream
    records the failed transaction's writes added are taken back too (moto's copy of a table carried its stream).
    """
    import copy
    import types

    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    if getattr(models.DynamoDBBackend.transact_write_items, "npsloop_patched", False):
        return
    models.copy = types.SimpleNamespace(  # type: ignore[attr-defined]  # the module's only other copy is an item's
        deepcopy=lambda obj, memo=None: obj if isinstance(obj, Table) else copy.deepcopy(obj, memo)
    )
    original = models.DynamoDBBackend.transact_write_items

    def snapshot(backend: Any, transact_items: list[dict[str, Any]]) -> tuple[list[tuple[Any, ...]], dict[Any, int]]:
        saved, streams = [], {}
        for entry in transact_items:
            op = next(iter(entry.values()), None)
            table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
            if table is not None and table.stream_shard is not None:
                streams.setdefault(table.stream_shard, len(table.stream_shard.items))
            key = (op.get("Key") or op.get("Item") or {}) if table is not None else {}
            if table is None or table.hash_key_attr not in key:
                continue
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
            if table.has_range_key and range_value is None:
                continue
            saved.append((table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value))))
        return saved, streams

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved, streams = snapshot(self, transact_items)
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_value, range_value, item in reversed(saved):
                place = table.items[hash_value] if range_value is not None else table.items
                slot = range_value if range_value is not None else hash_value
                if item is None:
                    place.pop(slot, None)
                else:
                    place[slot] = item
            for shard, length in streams.items():
                del shard.items[length:]
            raise

    transact_write_items.npsloop_patched = True  # type: ignore[attr-defined]
    models.DynamoDBBackend.transact_write_items = transact_write_items


def patch_per_request_costs() -> None:
    """Work moto repeats on every request although its answer never changes (measured with py-spy under load):

    - which services exist: a directory listing of moto's package, for every request's routing;
    - each EventBridge target's input paths: a jsonpath parser (a yacc table) built anew for every event;
    - a DynamoDB update expression, parsed twice per UpdateItem (the validator works on a copy of the tree);
    - an SQS message's retention check, and every message sent (to read ContentBasedDeduplication): all the
      queue's attributes, whose message counts walk the whole queue (so each cost grew with the queue's depth).
    """
    import functools

    import jsonpath_ng.ext
    from moto import backends
    from moto.core.utils import unix_time
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser
    from moto.sqs.models import Queue, SQSBackend

    if getattr(backends.list_of_moto_modules, "npsloop_patched", False):
        return
    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules
    backends.list_of_moto_modules.npsloop_patched = True  # type: ignore[attr-defined]
    jsonpath_ng.ext.parse = functools.lru_cache(maxsize=256)(jsonpath_ng.ext.parse)
    parse_update = UpdateExpressionParser.make.__func__  # type: ignore[attr-defined]
    UpdateExpressionParser.make = staticmethod(  # type: ignore[method-assign]
        functools.lru_cache(maxsize=512)(lambda text: parse_update(UpdateExpressionParser, text))
    )

    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        retention = int(self.get_queue(queue_name).message_retention_period)
        return retention + message.sent_timestamp / 1000 > unix_time()

    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period

    sending = threading.local()
    all_attributes = Queue.attributes

    def attributes(self: Any) -> dict[str, Any]:
        if getattr(sending, "now", False):  # what send_message reads, without counting the queue's messages
            dedup = getattr(self, "content_based_deduplication", False)
            return {"ContentBasedDeduplication": str(dedup).lower() if isinstance(dedup, bool) else dedup}
        return all_attributes.fget(self)

    def send_message(self: Any, *args: Any, **kwargs: Any) -> Any:
        sending.now = True
        try:
            return original_send(self, *args, **kwargs)
        finally:
            sending.now = False

    original_send = SQSBackend.send_message
    Queue.attributes = property(attributes)
    SQSBackend.send_message = send_message


class _Partition:
    """A table as its Query sees it: the items of one partition (DynamoDB reads a partition by its key; moto's Query
    sorted every item of the table to pick the partition's, so a Query's cost grew with the table)."""

    def __init__(self, table: Any, hash_key: Any):
        self._table, self._hash_key = table, hash_key

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def all_items(self) -> list[Any]:
        bucket = self._table.items.get(self._hash_key)
        if bucket is None:
            return []
        return list(bucket.values()) if self._table.range_key_attr else [bucket]


class _IndexPartition:
    """A table as a Query of one of its global indexes sees it: the items whose index hash key has the value asked
    for (moto looked at every item of the table for each such Query; the sync makes one per matched account)."""

    def __init__(self, table: Any, items: list[Any]):
        self._table, self._items = table, items

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def all_items(self) -> list[Any]:
        return self._items


_WRITES: dict[str, int] = {}  # table name -> writes moto made to it so far
_BY_INDEX_KEY: dict[tuple[int, str], tuple[int, dict[tuple[str, str], list[Any]]]] = {}  # (table, index) -> map


def _index_items(table: Any, index: Any, hash_key: Any) -> list[Any]:
    """The items of `table` under `hash_key` in `index`, from a map built again once the table was written to."""
    from moto.dynamodb.models.dynamo_type import Item

    attribute = next(k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH")
    generation = _WRITES.get(table.name, 0)
    built, by_key = _BY_INDEX_KEY.get((id(table), index.name), (-1, {}))
    if built != generation:
        by_key = {}
        for item in table.all_items():
            value = item.attrs.get(attribute) if isinstance(item, Item) else None
            if value is not None:
                by_key.setdefault((value.type, str(value.value)), []).append(item)
        _BY_INDEX_KEY[(id(table), index.name)] = (generation, by_key)
    return by_key.get((hash_key.type, str(hash_key.value)), [])


def patch_table_queries() -> None:
    """A Query of a table looks at its partition's items only, and a Query of a global index (one hash key) at the
    items with that key; the results are the same. Every write moto makes (a transaction's and a batch's too go
    through put_item, update_item and delete_item) marks its table's index maps out of date."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    if getattr(Table.query, "npsloop_patched", False):
        return
    query = Table.query

    def partition_query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")  # moto passes it 8th, by position
        if hash_key is None:
            table = self
        elif not index_name:
            table = _Partition(self, hash_key)
        else:
            index = next((i for i in self.global_indexes if i.name == index_name), None)
            hashes = [k for k in index.schema if k["KeyType"] == "HASH"] if index else []
            table = _IndexPartition(self, _index_items(self, index, hash_key)) if len(hashes) == 1 else self
        return query(table, hash_key, *args, **kwargs)

    def counting(write: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(self: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
            try:
                return write(self, table_name, *args, **kwargs)
            finally:
                _WRITES[table_name] = _WRITES.get(table_name, 0) + 1

        return wrapped

    for name in ("put_item", "update_item", "delete_item"):
        setattr(DynamoDBBackend, name, counting(getattr(DynamoDBBackend, name)))
    transact = DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return transact(self, *args, **kwargs)
        finally:  # a cancelled transaction puts items back without those methods
            for table_name in list(self.tables):
                _WRITES[table_name] = _WRITES.get(table_name, 0) + 1

    DynamoDBBackend.transact_write_items = transact_write_items
    partition_query.npsloop_patched = True  # type: ignore[attr-defined]
    Table.query = partition_query


def patch_stream_iterators() -> None:
    """moto keeps every shard iterator it hands out, and each GetRecords hands out one (about 2 KB): a stream poller
    reading four times a second grew moto by some 30 MB an hour. DynamoDB Streams iterators expire after 15
    minutes; here they are forgotten then too."""
    from moto.dynamodbstreams import models

    if getattr(models.DynamoDBStreamsBackend.get_records, "npsloop_patched", False):
        return
    get_records = models.DynamoDBStreamsBackend.get_records

    def expiring_get_records(self: Any, iterator_arn: str, limit: int) -> dict[str, Any]:
        result = get_records(self, iterator_arn, limit)
        born: dict[str, float] = self.__dict__.setdefault("npsloop_iterators_born", {})  # per backend, as its iterators
        now = time.monotonic()
        born.setdefault(iterator_arn, now)
        born[result["NextShardIterator"]] = now
        for arn in [a for a, at in born.items() if now - at > ITERATOR_LIFETIME_S]:
            born.pop(arn)
            self.shard_iterators.pop(arn, None)
        return result

    expiring_get_records.npsloop_patched = True  # type: ignore[attr-defined]
    models.DynamoDBStreamsBackend.get_records = expiring_get_records


def patch_moto() -> None:
    """What the local stack changes in moto, for the tests' moto as well."""
    patch_eventbridge_envelope()
    patch_dynamodb_transactions()
    patch_per_request_costs()
    patch_table_queries()
    patch_stream_iterators()


def serve(host: str, port: int) -> None:
    patch_moto()
    meter = Meter()
    install_meter(meter)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per AWS call otherwise
    app = middleware(_DynamoDbOneAtATime(DomainDispatcherApplication(create_backend_app)), meter)
    make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler).serve_forever()


class MotoServer:
    """`python -m npsloop_local.moto_server` as a child process, stopped with the stack."""

    def __init__(self, host: str, port: int, log: Any = None):
        self.host, self.port, self.log = host, port, log
        self.process: subprocess.Popen | None = None

    def start(self, timeout_s: float = 30) -> None:
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", "npsloop_local.moto_server", "--host", self.host, "--port", str(self.port)],
            stdout=self.log, stderr=self.log, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise OSError(f"the moto server exited at start (port {self.port} taken?)")
            try:
                socket.create_connection((self.host, self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise OSError(f"the moto server did not open port {self.port}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="moto server for the npsloop local stack")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    serve(args.host, args.port)
