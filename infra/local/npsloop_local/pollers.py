"""One poller per SQS or DynamoDB stream event source of template.yaml, behaving as Lambda's event source mapping."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from npsloop_local.template import REGION, QueueSource, StreamSource
from npsloop_local.workers import InvocationError

RECEIVE_MAX = 10  # SQS ReceiveMessage limit per call
SHARD_POLLS_PER_SECOND = 4  # Lambda reads each shard of a DynamoDB stream four times a second
RETRY_PAUSE_S = 1.0  # between two attempts at a failed stream batch


def lambda_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """An SQS message as Lambda hands it to a function."""
    attrs = {
        name: {"stringValue": a.get("StringValue"), "binaryValue": a.get("BinaryValue"), "stringListValues": [],
               "binaryListValues": [], "dataType": a["DataType"]}
        for name, a in message.get("MessageAttributes", {}).items()
    }  # fmt: skip
    return {
        "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
        "attributes": message.get("Attributes", {}), "messageAttributes": attrs, "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": REGION,
    }  # fmt: skip


class Poller:
    """A thread that polls until stopped, whatever one poll raises (as the managed poller keeps polling)."""

    def __init__(self, name: str, invoke: Callable[[dict[str, Any]], Any]):
        self.name, self.invoke = name, invoke
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"poller-{name}", daemon=True)
        self.batches = 0
        self.failed_batches = 0  # invocations that raised, timed out or died: their records come back

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.thread.ident is not None:  # a stack whose start failed stops pollers it never started
            self.thread.join(15)

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.poll()
            except Exception as exc:
                print(f"[{self.name}] poller error: {type(exc).__name__}: {exc}", flush=True)
                self.stopping.wait(1)

    def poll(self) -> None:
        raise NotImplementedError


class QueuePoller(Poller):
    """Gathers up to BatchSize messages within the batching window, invokes, deletes what succeeded.

    Failed messages are left alone: they return after the queue's visibility timeout and move to the DLQ
    after maxReceiveCount receives (the queue's redrive policy, which moto applies).
    """

    def __init__(self, name: str, source: QueueSource, queue_url: str, queue_arn: str, sqs: Any,
                 invoke: Callable[[dict[str, Any]], Any]):  # fmt: skip
        super().__init__(name, invoke)
        self.source, self.url, self.arn, self.sqs = source, queue_url, queue_arn, sqs

    def poll(self) -> None:
        batch = self._gather()
        if batch:
            self._process(batch)

    def _gather(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        deadline = float("inf")  # the batching window opens with the first message
        while len(messages) < self.source.batch_size and not self.stopping.is_set():
            got = self.sqs.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=min(RECEIVE_MAX, self.source.batch_size - len(messages)),
                WaitTimeSeconds=0 if messages else 1, AttributeNames=["All"], MessageAttributeNames=["All"],
            ).get("Messages", [])  # fmt: skip
            if got and not messages:
                deadline = time.monotonic() + self.source.window_seconds
            messages.extend(got)
            if messages and time.monotonic() >= deadline:
                break
            if not got and messages:
                self.stopping.wait(min(0.2, max(0.0, deadline - time.monotonic())))
        return messages

    def _process(self, messages: list[dict[str, Any]]) -> None:
        self.batches += 1
        try:
            result = self.invoke({"Records": [lambda_record(m, self.arn) for m in messages]})
        except InvocationError as exc:
            self.failed_batches += 1
            print(f"[{self.name}] batch of {len(messages)} failed: {exc}", flush=True)
            return
        failed: set[str] = set()
        if self.source.report_failures and isinstance(result, dict):
            failed = {f.get("itemIdentifier") for f in result.get("batchItemFailures") or []}
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), RECEIVE_MAX):
            chunk = done[start : start + RECEIVE_MAX]
            self.sqs.delete_message_batch(
                QueueUrl=self.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )


def _lambda_value(value: Any) -> Any:
    """An attribute value as Lambda's JSON event carries it: botocore decodes B and BS to bytes, Lambda sends base64."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: _lambda_value(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [_lambda_value(v) for v in value]
    return value


def stream_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record (as boto3 parses it) as Lambda hands it to a function."""
    change = dict(record["dynamodb"])
    when = change.get("ApproximateCreationDateTime")
    if when is not None and hasattr(when, "timestamp"):
        change["ApproximateCreationDateTime"] = float(int(when.timestamp()))  # epoch seconds, as in Lambda's event
    change = {k: _lambda_value(v) for k, v in change.items()}
    return {
        "eventID": record["eventID"], "eventName": record["eventName"], "eventVersion": record["eventVersion"],
        "eventSource": "aws:dynamodb", "awsRegion": REGION, "dynamodb": change, "eventSourceARN": stream_arn,
    }  # fmt: skip


@dataclass
class _Shard:
    """Where Lambda's reading of one shard stands: the records read but not yet done, and what to read next."""

    shard_id: str
    iterator: str | None
    pending: list[dict[str, Any]] = field(default_factory=list)  # read, not yet done: the batch in flight first
    retrying: int = 0  # failed attempts at the batch that heads `pending`
    limit: int = 0  # > 0: the batch was bisected to this many records
    last_read: int = -1  # records the last GetRecords returned (-1: none made yet)


class StreamPoller(Poller):
    """Reads a DynamoDB stream shard by shard and invokes the function with batches of its records, as Lambda does.

    Each shard's records go in order, one batch in flight at a time. A batch that fails (the function raised, timed
    out or its process died) is retried as it was, same records in the same order, after RETRY_PAUSE_S, until it
    succeeds or MaximumRetryAttempts is spent (-1: never; then the batch is logged and skipped, as Lambda does
    without an on-failure destination). With ReportBatchItemFailures, `{"batchItemFailures": [{"itemIdentifier":
    SEQUENCE_NUMBER}]}` marks the records before the lowest reported one done and retries from it; an identifier
    that names no record of the batch fails the whole batch. BisectBatchOnFunctionError halves a batch whose
    invocation failed before its retry (each retry counts as an attempt).
    """

    def __init__(self, name: str, source: StreamSource, stream_arn: str, streams: Any,
                 invoke: Callable[[dict[str, Any]], Any]):  # fmt: skip
        super().__init__(name, invoke)
        self.source, self.arn, self.streams = source, stream_arn, streams
        self.shards: dict[str, _Shard] = {}
        self.records = 0  # records done (their batch succeeded, or the records before a reported failure)
        self.skipped = 0  # records given up on after MaximumRetryAttempts

    def start(self) -> None:
        self._discover()  # the starting position is where the stream stands now, not when the thread gets to run
        super().start()

    @property
    def caught_up(self) -> bool:
        """Every record read is done and the last read of each shard found nothing new (Lambda's IteratorAge 0)."""
        shards = list(self.shards.values())
        return bool(shards) and all(not s.pending and s.last_read == 0 for s in shards)

    def _discover(self) -> None:
        """Start reading the shards not seen yet, at the starting position (moto's stream has one shard)."""
        for shard in self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]:
            if shard["ShardId"] not in self.shards:
                iterator = self.streams.get_shard_iterator(
                    StreamArn=self.arn, ShardId=shard["ShardId"], ShardIteratorType=self.source.starting_position
                )["ShardIterator"]
                self.shards[shard["ShardId"]] = _Shard(shard["ShardId"], iterator)

    def poll(self) -> None:
        if not self.shards:
            self._discover()
        worked = False
        for shard in self.shards.values():
            if self.stopping.is_set():
                return
            worked = self._step(shard) or worked
        if not worked:
            self.stopping.wait(1 / SHARD_POLLS_PER_SECOND)

    def _read(self, shard: _Shard, most: int) -> list[dict[str, Any]]:
        if shard.iterator is None or most <= 0:
            return []
        got = self.streams.get_records(ShardIterator=shard.iterator, Limit=most)
        shard.iterator = got.get("NextShardIterator")  # None once a closed shard is read to its end
        records = got.get("Records", [])
        shard.last_read = len(records)
        return records

    def _gather(self, shard: _Shard) -> None:
        """Fill the shard's batch up to BatchSize within the batching window, which opens with the first record."""
        size = self.source.batch_size
        shard.pending.extend(self._read(shard, size - len(shard.pending)))
        if not shard.pending:
            return
        deadline = time.monotonic() + self.source.window_seconds
        while len(shard.pending) < size and time.monotonic() < deadline and not self.stopping.is_set():
            self.stopping.wait(min(1 / SHARD_POLLS_PER_SECOND, max(0.0, deadline - time.monotonic())))
            shard.pending.extend(self._read(shard, size - len(shard.pending)))

    def _step(self, shard: _Shard) -> bool:
        """One invocation for the shard if it has records; True when it did one."""
        if not shard.retrying:
            self._gather(shard)
        batch = shard.pending[: shard.limit or self.source.batch_size]
        if not batch:
            return False
        self.batches += 1
        try:
            result = self.invoke({"Records": [stream_record(r, self.arn) for r in batch]})
        except InvocationError as exc:
            self.failed_batches += 1
            self._failed(shard, batch, 0, f"failed: {exc}", bisect=self.source.bisect)
            return True
        done = self._done_count(batch, result)
        if done == len(batch):
            del shard.pending[: len(batch)]
            shard.retrying, shard.limit = 0, 0
            self.records += done
        else:
            self._failed(shard, batch, done, "reported a failure", bisect=False)
        return True

    def _done_count(self, batch: list[dict[str, Any]], result: Any) -> int:
        """How many records of the batch are done: all unless the function reports item failures."""
        if not self.source.report_failures or not isinstance(result, dict) or not result.get("batchItemFailures"):
            return len(batch)
        position = {r["dynamodb"]["SequenceNumber"]: i for i, r in enumerate(batch)}
        failed = [f.get("itemIdentifier") if isinstance(f, dict) else None for f in result["batchItemFailures"]]
        if any(f not in position for f in failed):
            return 0  # an empty, null or unknown identifier: Lambda treats the whole batch as failed
        return min(position[f] for f in failed)

    def _failed(self, shard: _Shard, batch: list[dict[str, Any]], done: int, why: str, bisect: bool) -> None:
        """The first `done` records are done; retry from the next one (the first half of the rest when bisecting),
        or give the rest up when the retries are spent."""
        del shard.pending[:done]
        self.records += done
        first, last = batch[done]["dynamodb"]["SequenceNumber"], batch[-1]["dynamodb"]["SequenceNumber"]
        shard.retrying += 1
        retries = self.source.max_retries
        if 0 <= retries < shard.retrying:
            print(f"[{self.name}] batch {first}..{last} of {shard.shard_id} {why}; MaximumRetryAttempts "
                  f"{retries} spent: {len(batch) - done} records skipped", flush=True)  # fmt: skip
            del shard.pending[: len(batch) - done]
            self.skipped += len(batch) - done
            shard.retrying, shard.limit = 0, 0
            return
        remaining = len(batch) - done
        shard.limit = remaining // 2 if bisect and remaining > 1 else remaining
        print(f"[{self.name}] batch {first}..{last} of {shard.shard_id} {why}; retry {shard.retrying} with "
              f"{shard.limit} records", flush=True)  # fmt: skip
        self.stopping.wait(RETRY_PAUSE_S)
