"""The raw archive in S3: every delivery exactly as it arrived, written before anything can fail."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from npsloop.aws import client
from npsloop.models import utc
from npsloop.sources.base import Delivery

ACCEPTED_PREFIX = "raw/"
UNAUTHENTICATED_PREFIX = "unauthenticated/"  # expires after 7 days (bucket lifecycle rule in template.yaml)
CREDENTIALS = {"headers": ("x-npsloop-token", "authorization"), "query": ("token",)}  # never kept in the archive
REDACTED = "[redacted]"


def _without_credentials(values: dict[str, str], names: tuple[str, ...]) -> dict[str, str]:
    return {k: REDACTED if k.lower() in names else v for k, v in values.items()}


class RawArchive:
    def __init__(self, bucket: str, s3: Any | None = None):
        self.bucket = bucket
        self._s3 = s3

    @property
    def s3(self) -> Any:
        return self._s3 or client("s3")

    def put(self, delivery: Delivery, *, authentic: bool) -> str:
        """Store body, headers and receive time; the key says whether the sender proved who it is."""
        at = utc(delivery.received_at)
        prefix = ACCEPTED_PREFIX if authentic else UNAUTHENTICATED_PREFIX
        source = delivery.source if delivery.source.isidentifier() else "_unknown"
        key = f"{prefix}{source}/{at:%Y/%m/%d/%H%M%S%f}-{uuid.uuid4().hex}.json"
        record = {
            "source": delivery.source,
            "received_at": at.isoformat(),
            "headers": _without_credentials(dict(delivery.headers), CREDENTIALS["headers"]),
            "query": _without_credentials(dict(delivery.query), CREDENTIALS["query"]),
            "body_base64": base64.b64encode(delivery.body).decode(),
        }
        self.s3.put_object(
            Bucket=self.bucket, Key=key, Body=json.dumps(record).encode(), ContentType="application/json"
        )
        return key

    def mark_rejected(self, key: str, status: int, error: str) -> None:
        """Tag a delivery that could not be parsed, so it can be found and replayed after a fix.

        Tag values allow only a few characters, so the tags name the answer's status and error type.
        """
        tags = {"status": "rejected", "http_status": str(status), "error": error}
        self.s3.put_object_tagging(
            Bucket=self.bucket, Key=key, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}
        )

    def get(self, key: str) -> dict[str, Any]:
        return json.loads(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
