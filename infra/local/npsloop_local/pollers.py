"""One poller per SQS event source of template.yaml, behaving as Lambda's event source mapping does."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from npsloop_local.template import REGION, QueueSource
from npsloop_local.workers import InvocationError

RECEIVE_MAX = 10  # SQS ReceiveMessage limit per call


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


class QueuePoller:
    """Gathers up to BatchSize messages within the batching window, invokes, deletes what succeeded.

    Failed messages are left alone: they return after the queue's visibility timeout and move to the DLQ
    after maxReceiveCount receives (the queue's redrive policy, which moto applies).
    """

    def __init__(self, name: str, source: QueueSource, queue_url: str, queue_arn: str, sqs: Any,
                 invoke: Callable[[dict[str, Any]], Any]):  # fmt: skip
        self.name, self.source, self.url, self.arn, self.sqs, self.invoke = (
            name,
            source,
            queue_url,
            queue_arn,
            sqs,
            invoke,
        )
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"poller-{name}", daemon=True)
        self.batches = 0
        self.failed_batches = 0  # invocations that raised, timed out or died: their messages come back

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(15)

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                batch = self._gather()
                if batch:
                    self._process(batch)
            except Exception as exc:  # keep polling whatever happens, as the managed poller does
                print(f"[{self.name}] poller error: {type(exc).__name__}: {exc}", flush=True)
                self.stopping.wait(1)

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
