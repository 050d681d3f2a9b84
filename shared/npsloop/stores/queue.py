"""A consumer's own queue: hold failed messages back for a growing while (visibility timeout) before they return."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from npsloop.aws import client

ENTRIES_PER_CALL = 10
MAX_VISIBILITY = 12 * 3600  # SQS limit


def backoff_seconds(receive_count: int, base: int, cap: int) -> int:
    """base × 2^(receives − 1), at most `cap`: 5, 10, 20, 40 … seconds."""
    return min(base * 2 ** max(receive_count - 1, 0), cap, MAX_VISIBILITY)


class WorkQueue:
    def __init__(self, queue_url: str, sqs: Any | None = None):
        self.queue_url = queue_url
        self._sqs = sqs

    @property
    def sqs(self) -> Any:
        return self._sqs or client("sqs")

    def hold(self, messages: Sequence[tuple[str, int]]) -> None:
        """Make (receipt handle, seconds) messages invisible for that long; errors are left to the default timeout."""
        for start in range(0, len(messages), ENTRIES_PER_CALL):
            chunk = messages[start : start + ENTRIES_PER_CALL]
            entries = [{"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": seconds}
                       for i, (handle, seconds) in enumerate(chunk) if handle]  # fmt: skip
            if entries:
                self.sqs.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=entries)
