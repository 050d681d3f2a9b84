"""The raw archive: every delivery exactly as it arrived, written before anything can fail.

Each delivery is one Kinesis Data Firehose record (PutRecord answers only once the record is durable, so a delivery
is still archived before it is acknowledged): a newline-terminated JSON line that names its delivery id. Firehose
batches the records of a few minutes into one S3 object of the versioned archive bucket: accepted deliveries under
`raw/`, refused ones under `unauthenticated/` (two delivery streams, so each keeps its bucket lifecycle rule).
A mark (a delivery rejected, then replayed) is a second, small record naming the delivery id: the latest one wins.
"""

from __future__ import annotations

import base64
import binascii
import json
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from npsloop.aws import client
from npsloop.models import utc
from npsloop.sources.base import Delivery

ACCEPTED_PREFIX = "raw/"
UNAUTHENTICATED_PREFIX = "unauthenticated/"  # expires after 7 days (bucket lifecycle rule in template.yaml)
CREDENTIALS = {"headers": ("x-npsloop-token", "authorization"), "query": ("token",)}  # never kept in the archive
REDACTED = "[redacted]"
DELETE_MAX = 1000  # keys per DeleteObjects call
# A Firehose record holds at most 1,000 KiB. Only a body far over ingest's limit (MAX_BODY_BYTES, refused 413) comes
# near it once base64-encoded: its first BODY_KEPT bytes are archived, with the size it had.
BODY_KEPT = 512 * 1024


def spellings(address: str) -> tuple[bytes, ...]:
    """How an address can appear in a body, lower-cased: as is, percent-encoded (forms, query strings), JSON-escaped."""
    plain = address.strip().lower()
    forms = {plain, urllib.parse.quote(plain, safe=""), urllib.parse.quote_plus(plain),
             plain.replace("@", "\\u0040"), plain.replace("/", "\\/")}  # fmt: skip
    return tuple(sorted(f.encode() for f in forms))


def _line_mentions(line: bytes, address: str) -> bool:
    texts = [line.lower()]
    try:
        texts.append(base64.b64decode(json.loads(line)["body_base64"], validate=True).lower())
    except (ValueError, KeyError, TypeError, binascii.Error):
        pass
    return any(form in text for text in texts for form in spellings(address))


def mentions(stored: bytes, address: str) -> bool:
    """Whether an archived object holds the address in any of its records: in a record's headers or query, or in the
    delivery's body, which the record keeps base64-encoded; a line that is not a record is searched as bytes."""
    return any(_line_mentions(line, address) for line in stored.splitlines())


def without(stored: bytes, address: str) -> bytes:
    """The object's records (lines) that do not mention the address: what an erased object is rewritten with."""
    return b"".join(line + b"\n" for line in stored.splitlines() if line.strip() and not _line_mentions(line, address))


def _without_credentials(values: dict[str, str], names: tuple[str, ...]) -> dict[str, str]:
    return {k: REDACTED if k.lower() in names else v for k, v in values.items()}


@dataclass(frozen=True)
class Archived:
    """One delivery read back from the archive, with the S3 object that holds it."""

    delivery_id: str
    key: str
    record: dict[str, Any]

    @property
    def legacy(self) -> bool:
        """Written as an S3 object of its own before deliveries went through Firehose (its key is its id)."""
        return self.delivery_id == self.key

    @property
    def received_at(self) -> datetime:
        return datetime.fromisoformat(self.record["received_at"])

    def delivery(self) -> Delivery:
        r = self.record
        return Delivery(source=r["source"], body=base64.b64decode(r["body_base64"]), headers=r.get("headers") or {},
                        query=r.get("query") or {}, received_at=self.received_at)  # fmt: skip


@dataclass
class Contents:
    """What part of the archive holds: its deliveries, and the latest status mark of each delivery id."""

    deliveries: list[Archived]
    marks: dict[str, dict[str, Any]]  # the latest mark record of each delivery id

    def status(self, delivery_id: str) -> str | None:
        return self.marks.get(delivery_id, {}).get("status")


def parse_object(key: str, stored: bytes) -> Iterator[tuple[str, dict[str, Any]]]:
    """("delivery" or "mark", record) of each JSON line of an object; an object written before deliveries went
    through Firehose holds one record without an id: its key is its id. Lines that are not records are skipped."""
    for line in stored.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "mark" in record:
            yield "mark", record
        elif isinstance(record, dict) and "body_base64" in record:
            yield "delivery", {"delivery_id": key, **record}


class RawArchive:
    """The writing side, on the delivery streams: what the functions use (their only archive client is Firehose)."""

    def __init__(self, stream: str, unauthenticated_stream: str | None = None, firehose: Any | None = None):
        self.stream, self.unauthenticated_stream = stream, unauthenticated_stream
        self._firehose = firehose

    @property
    def firehose(self) -> Any:
        return self._firehose or client("firehose")

    def _write(self, stream: str | None, record: dict[str, Any]) -> None:
        if not stream:
            raise ValueError("this archive has no delivery stream for unauthenticated deliveries")
        self.firehose.put_record(DeliveryStreamName=stream, Record={"Data": json.dumps(record).encode() + b"\n"})

    def put(self, delivery: Delivery, *, authentic: bool) -> str:
        """Archive body, headers and receive time, on the stream that says whether the sender proved who it is;
        returns the delivery id, which marks and fetch jobs name."""
        delivery_id = uuid.uuid4().hex
        record = {
            "delivery_id": delivery_id,
            "source": delivery.source,
            "received_at": utc(delivery.received_at).isoformat(),
            "headers": _without_credentials(dict(delivery.headers), CREDENTIALS["headers"]),
            "query": _without_credentials(dict(delivery.query), CREDENTIALS["query"]),
            "body_base64": base64.b64encode(delivery.body[:BODY_KEPT]).decode(),
        }
        if len(delivery.body) > BODY_KEPT:
            record["body_truncated_from"] = len(delivery.body)
        self._write(self.stream if authentic else self.unauthenticated_stream, record)
        return delivery_id

    def mark(self, delivery_id: str, status: str, **details: str | int) -> None:
        """Record a status of an accepted delivery (`rejected`, `replayed`): a small record naming its id."""
        at = datetime.now(UTC).isoformat()
        self._write(self.stream, {"mark": delivery_id, "status": status, "at": at, **details})

    def mark_rejected(self, delivery_id: str, status: int, error: str) -> None:
        """Mark a delivery that could not be parsed, so it can be found and replayed after a fix; the mark names the
        answer's status and error type, never content."""
        self.mark(delivery_id, "rejected", http_status=status, error=error)


class ArchiveBucket:
    """The reading side, on the bucket Firehose writes to: what `npsloop replay` and `npsloop erase` use."""

    def __init__(self, bucket: str, s3: Any | None = None):
        self.bucket = bucket
        self._s3 = s3

    @property
    def s3(self) -> Any:
        return self._s3 or client("s3")

    def keys(self, prefix: str) -> Iterator[str]:
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            yield from (item["Key"] for item in page.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def contents(self, prefix: str, map: Callable[..., Iterable[bytes]] = map) -> Contents:  # noqa: A002
        """The deliveries and latest marks in the objects under `prefix`, deliveries in the order they arrived;
        `map` reads the objects (a thread pool's map reads many at once)."""
        deliveries: list[Archived] = []
        marks: dict[str, dict[str, Any]] = {}
        keys = list(self.keys(prefix))
        for key, stored in zip(keys, map(self.read, keys), strict=True):
            for kind, record in parse_object(key, stored):
                if kind == "delivery":
                    deliveries.append(Archived(record["delivery_id"], key, record))
                elif str(record.get("at", "")) >= str(marks.get(record["mark"], {}).get("at", "")):
                    marks[record["mark"]] = record
        deliveries.sort(key=lambda a: a.record.get("received_at", ""))
        return Contents(deliveries, marks)

    def tagged_rejected(self, key: str) -> bool:
        """Whether an object written before Firehose carries the `status=rejected` tag that marked it then."""
        return {"Key": "status", "Value": "rejected"} in self.s3.get_object_tagging(Bucket=self.bucket, Key=key)[
            "TagSet"]  # fmt: skip

    def versions(self) -> Iterator[tuple[str, str, bool]]:
        """(key, version id, whether current) of every version of every archived object, accepted and
        unauthenticated."""
        paginator = self.s3.get_paginator("list_object_versions")
        for prefix in (ACCEPTED_PREFIX, UNAUTHENTICATED_PREFIX):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                yield from ((v["Key"], v["VersionId"], v.get("IsLatest", False)) for v in page.get("Versions", []))

    def read_version(self, key: str, version_id: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=key, VersionId=version_id)["Body"].read()

    def rewrite(self, key: str, stored: bytes) -> None:
        """A new current version of an object (its old versions are deleted apart, with delete_versions)."""
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=stored)

    def delete_versions(self, versions: list[tuple[str, str]]) -> None:
        """Delete these versions for good (a versioned delete leaves no delete marker and no older copy)."""
        for start in range(0, len(versions), DELETE_MAX):
            objects = [{"Key": k, "VersionId": v} for k, v in versions[start : start + DELETE_MAX]]
            result = self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True})
            if result.get("Errors"):
                error = result["Errors"][0]
                raise RuntimeError(f"S3 refused to delete {len(result['Errors'])} versions, e.g. {error['Key']}: "
                                   f"{error.get('Code')}")  # fmt: skip
