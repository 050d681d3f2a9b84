"""The fetch queue: ids-only deliveries waiting for fetch_response to read the full response from the tool's API."""

from __future__ import annotations

from npsloop.models import FetchJob
from npsloop.stores.queue import WorkQueue


class FetchQueue(WorkQueue):
    """fetch_response's own queue: ingest sends jobs to it, and failed jobs are held back with a growing delay."""

    def send(self, job: FetchJob) -> None:
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=job.model_dump_json())
