"""A consumer's DLQ, written to directly for records that can never succeed, with the reason as attributes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from npsloop.aws import client

ENTRIES_PER_CALL = 10


class DeadLetters:
    def __init__(self, queue_url: str, sqs: Any | None = None):
        self.queue_url = queue_url
        self._sqs = sqs

    @property
    def sqs(self) -> Any:
        return self._sqs or client("sqs")

    def send(self, letters: Sequence[tuple[str, dict[str, str]]]) -> None:
        """Send (original message body, string attributes) pairs; raises if SQS refuses any of them."""
        for start in range(0, len(letters), ENTRIES_PER_CALL):
            chunk = letters[start : start + ENTRIES_PER_CALL]
            entries = [
                {"Id": str(i), "MessageBody": body, "MessageAttributes": _attributes(attrs)}
                for i, (body, attrs) in enumerate(chunk)
            ]
            result = self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            if result.get("Failed"):
                raise RuntimeError(f"the DLQ refused {len(result['Failed'])} messages: {result['Failed'][0]}")


def _attributes(attrs: dict[str, str]) -> dict[str, dict[str, str]]:
    return {k: {"DataType": "String", "StringValue": v[:1000] or "-"} for k, v in attrs.items()}
