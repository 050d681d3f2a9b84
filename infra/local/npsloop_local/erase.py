"""`npsloop erase --email ADDRESS`: remove a person from every place npsloop keeps them, keep only a hash.

Where an address can be, and what happens there:

- Responses table (one scan; the answer names the address anywhere: email, comment, attributes): the answer and its
  content hash are removed; the counting (ledgers, category, period, themes, Salesforce ids) stays, so aggregates
  are unchanged and a redelivery of that response is not stored again.
- Notify table (the contact's items and the survey cooldowns and planned reminders by the address's hash; the
  Zapier reads its recent responses from the Responses table): deleted.
- raw archive in S3 (every version of every object under `raw/` and `unauthenticated/`, rejected and unparsable
  deliveries too; an object holds many deliveries, one JSON line each, as Firehose batched them; each line is
  searched as bytes, its body decoded, the address also percent- and JSON-escaped): an object whose current version
  names the address is written again without those lines (the other people's deliveries stay), then every version
  that named it is deleted for good. Deliveries still in Firehose's buffer (the last few minutes, see
  `BufferingHints` in template.yaml) reach S3 later: the report says when to run erase again.
- dead-letter queues (each DLQ's messages received and searched): matching messages deleted, the rest made visible.
- Salesforce (NPS_Response__c by `Email__c` or by the erased response ids, npsloop's Tasks and Leads for them,
  Contacts by `Email`): deleted into the Recycle Bin; the Contacts' NPS fields cleared.
- OptOuts table (already keyed by the address's SHA-256): the hash stays, or is added with reason `erased`, so no
  email goes out again.

Cost: the Responses scan reads the whole table once (about 1 read unit per 4 KB); the archive search reads every
archived version once (one GET each, 16 at a time; an object holds up to five minutes of deliveries, so a million
deliveries are a few thousand GETs). Queues in flight (seconds) are not searched: run erase when they are quiet, or
again after.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tqdm import tqdm

from npsloop.models import iso
from npsloop.salesforce.client import SalesforceClient, SalesforceError
from npsloop.salesforce.erase import SalesforceErasure
from npsloop.salesforce.erase import erase as erase_in_salesforce
from npsloop.stores.archive import ArchiveBucket, mentions, without
from npsloop.stores.notify_state import NotifyState
from npsloop.stores.optouts import OptOutStore, address_hash
from npsloop.stores.responses import ResponseStore
from npsloop.stores.surveys import SurveyLedger
from npsloop_local.ops import Target
from npsloop_local.salesforce_ops import dead_letter_queues, salesforce_client

ARCHIVE_THREADS = 16
DLQ_VISIBILITY_SECONDS = 120


class EraseError(Exception):
    """Erasure stopped before changing anything in AWS; the message says why. Run it again after the fix."""


@dataclass
class EraseReport:
    address_hash: str
    responses: list[str] = field(default_factory=list)  # response ids whose answer was removed
    notify_items: int = 0
    archive_searched: int = 0
    archive_deleted: int = 0
    archive_rewritten: int = 0
    buffer_seconds: int = 0  # deliveries this recent may still be in Firehose's buffer, not yet in S3
    dead_letters: int = 0
    opt_out: str = ""  # the reason the opt-out list keeps
    salesforce: SalesforceErasure | None = None

    def lines(self) -> list[str]:
        out = [f"erased address sha256 {self.address_hash[:16]}…",
               f"  Responses table: {len(self.responses)} answers removed (still counted anonymously)"
               + (f": {', '.join(self.responses)}" if self.responses else ""),
               f"  Notify table: {self.notify_items} items deleted",
               f"  raw archive: {self.archive_deleted} of {self.archive_searched} object versions deleted, "
               f"{self.archive_rewritten} objects written again without them; deliveries of the last "
               f"{self.buffer_seconds} s may still be in Firehose's buffer: run erase again after that",
               f"  dead-letter queues: {self.dead_letters} messages deleted",
               f"  opt-out list: the hash is kept (reason {self.opt_out})"]  # fmt: skip
        sf = self.salesforce
        if sf is None:
            out.append("  Salesforce: skipped")
        else:
            out.append(f"  Salesforce: {sf.responses} NPS_Response__c, {sf.tasks} Tasks, {sf.leads} Leads deleted; "
                       f"{sf.contacts} Contacts' NPS fields cleared")  # fmt: skip
            out += [f"  Salesforce refused {failure}" for failure in sf.failed]
        return out

    @property
    def failed(self) -> bool:
        return bool(self.salesforce and self.salesforce.failed)


def erase(target: Target, email: str, *, salesforce: bool = True, api: SalesforceClient | None = None,
          progress: bool = True, now: datetime | None = None) -> EraseReport:  # fmt: skip
    """Salesforce first (what it needs is only read from AWS until then), so a failure there changes nothing and a
    second run finds everything again; then DynamoDB, the archive, the DLQs and the opt-out list."""
    needle = email.strip().lower()
    if "@" not in needle:
        raise EraseError(f"--email takes an email address, got {len(needle)} characters without an @")
    report = EraseReport(address_hash(needle))
    responses = ResponseStore(target.physical("ResponsesTable"), target.client("dynamodb"))
    ids = holding(target, needle)
    if salesforce:
        try:
            report.salesforce = erase_in_salesforce(api or salesforce_client(target), needle, ids)
        except SalesforceError as exc:
            raise EraseError(f"Salesforce: {exc.code}: {exc.message}") from None
    at = iso(now or datetime.now(UTC))
    for response_id in ids:
        responses.erase(response_id, at=at)
    report.responses = ids
    notify_table, ddb = target.physical("NotifyTable"), target.client("dynamodb")
    report.notify_items = (NotifyState(notify_table, ddb).forget(needle)
                           + SurveyLedger(notify_table, ddb).forget(needle))  # fmt: skip
    archive = ArchiveBucket(target.physical("ArchiveBucket"), target.client("s3"))
    report.archive_searched, found = search_archive(archive, needle, progress)
    for (key, _version, current), stored in found:  # first the other people's deliveries in a new version
        if current and (kept := without(stored, needle)):
            archive.rewrite(key, kept)
            report.archive_rewritten += 1
    archive.delete_versions([(key, version) for (key, version, _), _ in found])
    report.archive_deleted = len(found)
    report.buffer_seconds = buffer_seconds(target)
    report.dead_letters = purge_dead_letters(target, needle)
    optouts = OptOutStore(target.physical("OptOutsTable"), target.client("dynamodb"))
    report.opt_out = optouts.reason(needle) or "erased"
    if report.opt_out == "erased":
        optouts.add(needle, "erased")
    return report


def holding(target: Target, needle: str) -> list[str]:
    """Ids of the stored responses whose answer names the address anywhere (one scan of the table)."""
    ddb = target.client("dynamodb")
    pages = ddb.get_paginator("scan").paginate(TableName=target.physical("ResponsesTable"),
                                               ProjectionExpression="response_id, #data",
                                               ExpressionAttributeNames={"#data": "data"})  # fmt: skip
    return sorted(item["response_id"]["S"] for page in pages for item in page["Items"]
                  if "data" in item and needle in item["data"]["S"].lower())  # fmt: skip


def search_archive(archive: ArchiveBucket, needle: str, progress: bool
                   ) -> tuple[int, list[tuple[tuple[str, str, bool], bytes]]]:  # fmt: skip
    """(how many versions were searched, each version that holds the address with its content)."""
    versions = list(archive.versions())

    def holding(version: tuple[str, str, bool]) -> bytes | None:
        stored = archive.read_version(version[0], version[1])
        return stored if mentions(stored, needle) else None

    with ThreadPoolExecutor(ARCHIVE_THREADS) as pool:
        found = list(tqdm(pool.map(holding, versions), total=len(versions), desc="searching the raw archive",
                          unit="obj", disable=not progress))  # fmt: skip
    return len(versions), [(v, stored) for v, stored in zip(versions, found, strict=True) if stored is not None]


def buffer_seconds(target: Target) -> int:
    """The longest time a delivery can wait in a delivery stream's buffer before it is in S3 (template.yaml)."""
    streams = [r["Properties"] for r in target.template.resources.values()
               if r["Type"] == "AWS::KinesisFirehose::DeliveryStream"]  # fmt: skip
    return max(int(p["ExtendedS3DestinationConfiguration"]["BufferingHints"]["IntervalInSeconds"]) for p in streams)


def purge_dead_letters(target: Target, needle: str) -> int:
    """Delete the DLQ messages that name the address; the others become visible again at once."""
    sqs = target.client("sqs")
    deleted = 0
    for dlq in sorted(set(dead_letter_queues(target).values())):
        url = target.physical(dlq)
        kept: list[str] = []
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                              VisibilityTimeout=DLQ_VISIBILITY_SECONDS).get("Messages"):  # fmt: skip
            for message in messages:
                if needle in message["Body"].lower():
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                    deleted += 1
                else:
                    kept.append(message["ReceiptHandle"])
        for handle in kept:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    return deleted
