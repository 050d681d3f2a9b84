"""The raw archive in S3: every delivery exactly as it arrived, written before anything can fail."""

from __future__ import annotations

import base64
import binascii
import json
import urllib.parse
import uuid
from collections.abc import Iterator
from typing import Any

from npsloop.aws import client
from npsloop.models import utc
from npsloop.sources.base import Delivery

ACCEPTED_PREFIX = "raw/"
UNAUTHENTICATED_PREFIX = "unauthenticated/"  # expires after 7 days (bucket lifecycle rule in template.yaml)
CREDENTIALS = {"headers": ("x-npsloop-token", "authorization"), "query": ("token",)}  # never kept in the archive
REDACTED = "[redacted]"
DELETE_MAX = 1000  # keys per DeleteObjects call


def spellings(address: str) -> tuple[bytes, ...]:
    """How an address can appear in a body, lower-cased: as is, percent-encoded (forms, query strings), JSON-escaped."""
    plain = address.strip().lower()
    forms = {plain, urllib.parse.quote(plain, safe=""), urllib.parse.quote_plus(plain),
             plain.replace("@", "\\u0040"), plain.replace("/", "\\/")}  # fmt: skip
    return tuple(sorted(f.encode() for f in forms))


def mentions(stored: bytes, address: str) -> bool:
    """Whether an archived object holds the address anywhere: in its record (headers, query) or in the delivery's
    body, which the record keeps base64-encoded; an object that is not a record is searched as bytes."""
    texts = [stored.lower()]
    try:
        texts.append(base64.b64decode(json.loads(stored)["body_base64"], validate=True).lower())
    except (ValueError, KeyError, TypeError, binascii.Error):
        pass
    return any(form in text for text in texts for form in spellings(address))


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

    def versions(self) -> Iterator[tuple[str, str]]:
        """(key, version id) of every version of every archived object, accepted and unauthenticated."""
        paginator = self.s3.get_paginator("list_object_versions")
        for prefix in (ACCEPTED_PREFIX, UNAUTHENTICATED_PREFIX):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                yield from ((v["Key"], v["VersionId"]) for v in page.get("Versions", []))

    def read_version(self, key: str, version_id: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=key, VersionId=version_id)["Body"].read()

    def delete_versions(self, versions: list[tuple[str, str]]) -> None:
        """Delete these versions for good (a versioned delete leaves no delete marker and no older copy)."""
        for start in range(0, len(versions), DELETE_MAX):
            objects = [{"Key": k, "VersionId": v} for k, v in versions[start : start + DELETE_MAX]]
            result = self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True})
            if result.get("Errors"):
                error = result["Errors"][0]
                raise RuntimeError(f"S3 refused to delete {len(result['Errors'])} versions, e.g. {error['Key']}: "
                                   f"{error.get('Code')}")  # fmt: skip

    def get(self, key: str) -> dict[str, Any]:
        return json.loads(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
