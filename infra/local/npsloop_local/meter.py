"""What the local stack's AWS calls would be billed for: requests by service, DynamoDB capacity units, events.

The moto process counts as it serves: every HTTP request by service and action, and from inside moto what an
HTTP count cannot see: DynamoDB write and read units from the sizes of the items written and read (1 WRU per KB
written, of the larger of the item before and after, twice in a transaction; the global secondary indexes' own
writes; 1 RRU per 4 KB read strongly, half as much eventually, and nothing for the look moto takes at an item while
it serves a write: DynamoDB bills that write in write units only), EventBridge events in 64 KB chunks, the SQS messages
EventBridge delivers to its queue targets, and Firehose records with the bytes Firehose bills for them (each record
rounded up to a multiple of 5 KB). DynamoDB Streams reads count as `request.dynamodbstreams.<Action>` (free when
Lambda reads the stream it triggers from). The S3 objects moto's Firehose writes (one per record, where AWS writes
one per buffer) are not requests and are not counted. `GET /__npsloop/meter` returns the counts, `DELETE
/__npsloop/meter` starts them again.
"""

from __future__ import annotations

import io
import json
import math
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

PATH = "/__npsloop/meter"
FIREHOSE_INCREMENT = 5 * 1024  # Firehose bills Direct PUT ingestion per record in 5 KB increments
_TARGETS = {"DynamoDBStreams": "dynamodbstreams", "DynamoDB": "dynamodb", "AWSEvents": "events", "AmazonSQS": "sqs",
            "secretsmanager": "secretsmanager", "AmazonSSM": "ssm", "TrentService": "kms", "Firehose": "firehose",
            "Logs": "logs"}  # fmt: skip  # DynamoDBStreams before DynamoDB: the first prefix that matches names it


class Meter:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.local = threading.local()

    def add(self, name: str, amount: float = 1) -> None:
        with self.lock:
            self.counts[name] += amount

    def snapshot(self) -> dict[str, float]:
        with self.lock:
            return dict(self.counts)

    def reset(self) -> None:
        with self.lock:
            self.counts.clear()


def request_name(environ: dict[str, Any]) -> str:
    """`<service>.<action>` of one AWS request as botocore sends it."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        prefix, _, action = target.partition(".")
        service = next((s for p, s in _TARGETS.items() if prefix.startswith(p)), prefix.lower())
        return f"{service}.{action}"
    path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
    if path.startswith("/v2/email"):
        return "ses.SendEmail" if "outbound-emails" in path else f"ses.{method}"
    auth = environ.get("HTTP_AUTHORIZATION", "")
    scope = auth.split("Credential=", 1)[-1].split("/")
    service = scope[3] if len(scope) > 3 else "s3"
    if service == "s3":
        return f"s3.{'PUT' if method in ('PUT', 'POST', 'COPY') else method}"
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action", [""])[0]
    return f"{service}.{action or method}"


def middleware(app: Callable[..., Iterable[bytes]], meter: Meter) -> Callable[..., Iterable[bytes]]:
    """Counts each request, and answers the meter's own path."""

    def metered(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == PATH:
            if environ.get("REQUEST_METHOD") == "DELETE":
                meter.reset()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps(meter.snapshot()).encode()]
        name = request_name(environ)
        meter.add(f"request.{name}")
        meter.local.consistent = _read_consistency(environ, name)
        try:
            return app(environ, start_response)
        finally:
            meter.local.consistent = {}

    return metered


WRITES = ("put_item", "update_item", "delete_item", "batch_write_item", "transact_write_items")  # DynamoHandler's
READS = {"dynamodb.GetItem", "dynamodb.BatchGetItem", "dynamodb.Query", "dynamodb.Scan"}


def _read_consistency(environ: dict[str, Any], name: str) -> dict[str, bool]:
    """For a DynamoDB read: whether each table it reads is read strongly (ConsistentRead), else eventually (half the
    units). The body is read here and handed on unchanged."""
    if name not in READS:
        return {}
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    environ["wsgi.input"] = io.BytesIO(body)
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return {}
    if name == "dynamodb.BatchGetItem":
        return {table: bool(spec.get("ConsistentRead")) for table, spec in request.get("RequestItems", {}).items()}
    return {request.get("TableName", ""): bool(request.get("ConsistentRead"))}


def index_keys(index: Any, item: Any) -> tuple | None:
    """The item's entry in a global secondary index (its key values), or None when it has none."""
    values = tuple(item.attrs.get(k["AttributeName"]) for k in index.schema) if item is not None else (None,)
    return None if any(v is None for v in values) else tuple(str(v.value) for v in values)


def index_writes(index: Any, before: tuple | None, new: Any) -> int:
    """Write units a table write costs in one global secondary index: the index entry is written when the item
    gains it or its keys change (and, unless the index holds keys only, whenever the item changes), and the old
    entry is deleted when the item loses it or its keys change (each entry: 1 WRU per KB projected)."""
    after = index_keys(index, new)
    keys_only = index.projection.get("ProjectionType") == "KEYS_ONLY"
    cost = 0
    if after is not None and (after != before or not keys_only):
        cost += 1 if keys_only else math.ceil(max(new.size(), 1) / 1024)
    if before is not None and before != after:
        cost += 1
    return cost


def install(meter: Meter) -> None:
    """Count capacity units, events and queue deliveries inside moto (once per process)."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler
    from moto.events.models import EventsBackend, Rule
    from moto.firehose.models import FirehoseBackend

    if getattr(DynamoDBBackend.put_item, "npsloop_metered", False):
        return

    def units(item: Any, per: int) -> int:
        return math.ceil(max(item.size(), 1) / per) if item is not None else 1

    get_item = DynamoDBBackend.get_item  # unmetered: the write's own look at the item it replaces

    def writes(method: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(self: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
            table = self.get_table(table_name)
            try:  # moto changes the item in place: what counts is read now
                key = args[0] if args else kwargs.get("item_attrs") or kwargs.get("key")
                if method.__name__ == "put_item":
                    key = {k: v for k, v in key.items() if k in (table.hash_key_attr, table.range_key_attr)}
                old = get_item(self, table_name, key)
            except Exception:  # a malformed key: the write itself says what is wrong
                old = None
            before_units = units(old, 1024) if old is not None else 1
            before_keys = [index_keys(index, old) for index in table.global_indexes]
            item = method(self, table_name, *args, **kwargs)
            # a write is billed on the larger of the item before and after it; twice inside a transaction
            wru = max(units(item, 1024), before_units) * (2 if getattr(meter.local, "transaction", False) else 1)
            meter.add("dynamodb.WRU", wru)
            meter.add(f"dynamodb.WRU.{table_name}", wru)
            for index, before in zip(table.global_indexes, before_keys, strict=True):
                gsi = index_writes(index, before, item if method.__name__ != "delete_item" else None)
                if gsi:
                    meter.add("dynamodb.WRU", gsi)
                    meter.add(f"dynamodb.WRU.{table_name}.{index.name}", gsi)
            return item

        wrapped.npsloop_metered = True  # type: ignore[attr-defined]
        return wrapped

    def reads(method: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(self: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
            result = method(self, table_name, *args, **kwargs)
            if getattr(meter.local, "writing", False):
                return result  # moto's own look at the item a write changes (UpdateItem, a transaction): not billed
            items = result[0] if isinstance(result, tuple) else [result]
            rru = max(1, math.ceil(sum(i.size() for i in items if i is not None) / 4096))
            if not getattr(meter.local, "consistent", {}).get(table_name, True):
                rru /= 2  # an eventually consistent read: half a unit per 4 KB
            meter.add("dynamodb.RRU", rru)
            meter.add(f"dynamodb.RRU.{table_name}", rru)
            return result

        return wrapped

    def flagged(flag: str, method: Callable[..., Any]) -> Callable[..., Any]:
        """`method` with meter.local.<flag> set while it runs (a transaction's writes, a write request's reads)."""

        def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
            setattr(meter.local, flag, True)
            try:
                return method(self, *args, **kwargs)
            finally:
                setattr(meter.local, flag, False)

        return wrapped

    for name in ("put_item", "update_item", "delete_item"):
        setattr(DynamoDBBackend, name, writes(getattr(DynamoDBBackend, name)))
    for name in ("get_item", "query", "scan"):
        setattr(DynamoDBBackend, name, reads(getattr(DynamoDBBackend, name)))
    DynamoDBBackend.transact_write_items = flagged("transaction", DynamoDBBackend.transact_write_items)
    for name in WRITES:  # the request handlers: moto reads the item before some writes (UpdateItem, ALL_OLD)
        setattr(DynamoHandler, name, flagged("writing", getattr(DynamoHandler, name)))

    put_events = EventsBackend.put_events

    def metered_put_events(self: Any, events: list[dict[str, Any]]) -> Any:
        for event in events:
            meter.add("events.events", math.ceil(max(len(json.dumps(event).encode()), 1) / 65536))
        return put_events(self, events)

    EventsBackend.put_events = metered_put_events
    send_to_queue = Rule._send_to_sqs_queue

    def delivered(self: Any, *args: Any, **kwargs: Any) -> Any:
        meter.add("sqs.SendMessage (from EventBridge)")
        return send_to_queue(self, *args, **kwargs)

    Rule._send_to_sqs_queue = delivered
    put_record_batch = FirehoseBackend.put_record_batch

    def metered_put_record_batch(self: Any, delivery_stream_name: str, records: list[dict[str, bytes]]) -> Any:
        meter.add("firehose.records", len(records))
        meter.add("firehose.billed_bytes", sum(billed_bytes(len(r["Data"])) for r in records))
        return put_record_batch(self, delivery_stream_name, records)

    FirehoseBackend.put_record_batch = metered_put_record_batch


def billed_bytes(size: int) -> int:
    """What Firehose bills for one record of `size` bytes: rounded up to the next 5 KB."""
    return max(1, math.ceil(size / FIREHOSE_INCREMENT)) * FIREHOSE_INCREMENT
