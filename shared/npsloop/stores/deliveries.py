"""The deliveries queue: one message per (subscription, response, event); backoff by changing a message's visibility."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from npsloop.aws import client

ENTRIES_PER_CALL = 10
MAX_VISIBILITY = 43_200  # SQS's 12-hour ceiling


class DeliveryQueue:
    def __init__(self, queue_url: str, sqs: Any | None = None):
        self.queue_url = queue_url
        self._sqs = sqs

    @property
    def sqs(self) -> Any:
        return self._sqs or client("sqs")

    def send(self, bodies: Sequence[str]) -> None:
        """Queue message bodies; raises if SQS refuses any of them (the caller's message then comes back)."""
        for start in range(0, len(bodies), ENTRIES_PER_CALL):
            chunk = bodies[start : start + ENTRIES_PER_CALL]
            result = self.sqs.send_message_batch(
                QueueUrl=self.queue_url, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(chunk)]
            )
            if result.get("Failed"):
                raise RuntimeError(f"SQS refused {len(result['Failed'])} deliveries: {result['Failed'][0]}")

    def retry_in(self, receipt_handle: str, seconds: int) -> None:
        """The message comes back after `seconds` (Lambda leaves a failed message's visibility as set here)."""
        self.sqs.change_message_visibility(QueueUrl=self.queue_url, ReceiptHandle=receipt_handle,
                                           VisibilityTimeout=max(0, min(seconds, MAX_VISIBILITY)))  # fmt: skip
