"""The fetch queue: ids-only deliveries waiting for fetch_response to read the full response from the tool's API."""

from __future__ import annotations

from npsloop.models import FetchJob
from npsloop.stores.queue import Queue


class FetchQueue(Queue):
    """fetch_response's own queue: ingest enqueues jobs, and failed jobs are held back with a growing delay."""

    def enqueue(self, job: FetchJob) -> None:
        self.send([job.model_dump_json()])
