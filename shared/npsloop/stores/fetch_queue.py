"""The fetch queue: ids-only deliveries waiting for fetch_response to read the full response from the tool's API."""

from __future__ import annotations

from typing import Any

from npsloop.aws import client
from npsloop.models import FetchJob

MAX_VISIBILITY_SECONDS = 43_200  # SQS limit: 12 hours


class FetchQueue:
    def __init__(self, queue_url: str, sqs: Any | None = None):
        self.queue_url = queue_url
        self._sqs = sqs

    @property
    def sqs(self) -> Any:
        return self._sqs or client("sqs")

    def send(self, job: FetchJob) -> None:
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=job.model_dump_json())

    def retry_in(self, receipt_handle: str, seconds: int) -> None:
        """Bring a failed message back after `seconds` instead of the queue's visibility timeout (backoff)."""
        self.sqs.change_message_visibility(QueueUrl=self.queue_url, ReceiptHandle=receipt_handle,
                                           VisibilityTimeout=max(0, min(seconds, MAX_VISIBILITY_SECONDS)))  # fmt: skip
