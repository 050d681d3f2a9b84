"""Our own SQS queues: send messages (with string attributes), and hold failed ones back for a while."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from npsloop.aws import client

ENTRIES_PER_CALL = 10  # SQS batch limit
MAX_VISIBILITY = 12 * 3600  # SQS's ceiling

Message = str | tuple[str, Mapping[str, str]]  # a body, or a body with string attributes


def backoff_seconds(receive_count: int, base: int, cap: int) -> int:
    """base × 2^(receives − 1), at most `cap`: 5, 10, 20, 40 … seconds."""
    return min(base * 2 ** max(receive_count - 1, 0), cap, MAX_VISIBILITY)


class Queue:
    """A consumer's queue, its DLQ, or a fan-out queue: the one adapter for all of them."""

    def __init__(self, queue_url: str, sqs: Any | None = None):
        self.queue_url = queue_url
        self._sqs = sqs

    @property
    def sqs(self) -> Any:
        return self._sqs or client("sqs")

    def send(self, messages: Sequence[Message], delay_seconds: int = 0) -> None:
        """Queue the messages (visible after `delay_seconds`, at most 900); raises if SQS refuses any of them (the
        caller's own message then comes back)."""
        for start in range(0, len(messages), ENTRIES_PER_CALL):
            chunk = messages[start : start + ENTRIES_PER_CALL]
            entries = [_entry(str(i), message) for i, message in enumerate(chunk)]
            if delay_seconds:
                entries = [{**e, "DelaySeconds": min(delay_seconds, 900)} for e in entries]
            result = self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            if result.get("Failed"):
                raise RuntimeError(f"SQS refused {len(result['Failed'])} messages: {result['Failed'][0]}")

    def hold(self, messages: Sequence[tuple[str, int]]) -> None:
        """Make (receipt handle, seconds) messages invisible for that long (Lambda keeps a failed message's
        visibility as set here), so each comes back after its own backoff."""
        for start in range(0, len(messages), ENTRIES_PER_CALL):
            chunk = messages[start : start + ENTRIES_PER_CALL]
            entries = [
                {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": max(0, min(seconds, MAX_VISIBILITY))}
                for i, (handle, seconds) in enumerate(chunk)
                if handle
            ]
            if entries:
                self.sqs.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=entries)

    def retry_in(self, receipt_handle: str, seconds: int) -> None:
        self.hold([(receipt_handle, seconds)])


def _entry(entry_id: str, message: Message) -> dict[str, Any]:
    if isinstance(message, str):
        return {"Id": entry_id, "MessageBody": message}
    body, attributes = message
    return {"Id": entry_id, "MessageBody": body, "MessageAttributes": {
        k: {"DataType": "String", "StringValue": v[:1000] or "-"} for k, v in attributes.items()}}  # fmt: skip
