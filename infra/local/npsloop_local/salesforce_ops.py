"""`npsloop redrive` and `npsloop backfill`: put stuck messages back, and re-sync stored responses into an org."""

from __future__ import annotations

import csv
import io
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tqdm import tqdm

from npsloop.models import CanonicalResponse, ScoredEvent
from npsloop.salesforce.client import SalesforceClient
from npsloop.salesforce.sync import (
    COLLECTION_SIZE,
    EXTERNAL_ID,
    NPS_OBJECT,
    Found,
    LookupPlan,
    SyncConfig,
    WritePlan,
    contact_updates,
    look_up,
    match,
    nps_record,
    plan_writes,
    write,
)
from npsloop.secrets import parse_secret
from npsloop_local.ops import Target

BULK_THRESHOLD = 2_000  # Salesforce: "more than 2,000 records is a good candidate for Bulk API 2.0"
BULK_POLL_SECONDS = 2.0


# --- redrive -----------------------------------------------------------------------------------------------------
def dead_letter_queues(target: Target) -> dict[str, str]:
    """{consumer queue logical id: its DLQ's logical id}, from the template's redrive policies."""
    out = {}
    for logical, props in target.template.of_type("AWS::SQS::Queue").items():
        policy = props.get("RedrivePolicy")
        if policy:
            out[logical] = policy["deadLetterTargetArn"]["Fn::GetAtt"][0]
    return out


def redrive(target: Target, only: str | None = None, progress: bool = True) -> dict[str, int]:
    """Move every message of each DLQ back to the queue it came from; returns how many moved per queue."""
    sqs = target.client("sqs")
    moved: dict[str, int] = {}
    for queue, dlq in dead_letter_queues(target).items():
        if only and only.lower() not in (queue.lower(), dlq.lower()):
            continue
        source, dead = target.physical(queue), target.physical(dlq)
        waiting = int(sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["ApproximateNumberOfMessages"])
                      ["Attributes"]["ApproximateNumberOfMessages"])  # fmt: skip
        moved[queue] = 0
        with tqdm(total=waiting, desc=f"{dlq} -> {queue}", unit="msg", disable=not progress) as bar:
            while messages := sqs.receive_message(QueueUrl=dead, MaxNumberOfMessages=10, VisibilityTimeout=60,
                                                  WaitTimeSeconds=0).get("Messages"):  # fmt: skip
                entries = [{"Id": str(i), "MessageBody": m["Body"]} for i, m in enumerate(messages)]
                sent = sqs.send_message_batch(QueueUrl=source, Entries=entries)
                ok = {e["Id"] for e in sent.get("Successful", [])}
                done = [
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages) if str(i) in ok
                ]
                if done:
                    sqs.delete_message_batch(QueueUrl=dead, Entries=done)
                moved[queue] += len(done)
                bar.update(len(done))
                if len(done) < len(messages):
                    raise RuntimeError(f"SQS refused to take {len(messages) - len(done)} messages back into {queue}")
    return moved


# --- backfill ----------------------------------------------------------------------------------------------------
@dataclass
class BackfillReport:
    responses: int = 0
    succeeded: int = 0
    failed: Counter = field(default_factory=Counter)  # reason -> how many
    tasks: int = 0
    method: str = "collections"
    job_id: str | None = None

    def lines(self) -> list[str]:
        via = f"{self.method} job {self.job_id}" if self.job_id else self.method
        failed = sum(self.failed.values())
        out = [f"{self.responses} stored responses, {self.succeeded} in Salesforce, {failed} failed "
               f"(via {via}; {self.tasks} Tasks created)"]  # fmt: skip
        out += [f"  failed {n} x {reason}" for reason, n in self.failed.most_common()]
        return out


def stored_responses(target: Target, since: datetime) -> Iterator[ScoredEvent]:
    """Every stored response whose answer time is on or after `since`, as the sync sees it."""
    ddb = target.client("dynamodb")
    for page in ddb.get_paginator("scan").paginate(TableName=target.physical("ResponsesTable")):
        for item in page["Items"]:
            if "data" not in item:
                continue
            response = CanonicalResponse.model_validate_json(item["data"]["S"])
            event = ScoredEvent(revision=int(item["revision"]["N"]), received_at=item["received_at"]["S"],
                                historical=item.get("historical", {}).get("BOOL", False), response=response,
                                category=response.category)  # fmt: skip
            if event.period_time >= since:
                yield event


def salesforce_client(target: Target) -> SalesforceClient:
    return SalesforceClient(parse_secret(target.secret()).salesforce_credentials())


def backfill(
    target: Target,
    since: datetime,
    *,
    with_tasks: bool = False,
    api: SalesforceClient | None = None,
    bulk_threshold: int = BULK_THRESHOLD,
    progress: bool = True,
    echo: Callable[[str], None] = print,
) -> BackfillReport:
    """Match every stored response since a date to Contacts, then upsert it (Bulk API 2.0 past the threshold)."""
    api = api or salesforce_client(target)
    latest = {e.response.response_id: e for e in stored_responses(target, since)}
    report = BackfillReport(responses=len(latest))
    config = SyncConfig(create_tasks=with_tasks, tasks_for_history=with_tasks)
    ids = list(latest)
    matches, found_tasks = {}, set()
    for start in tqdm(
        range(0, len(ids), COLLECTION_SIZE), desc="matching contacts", unit="batch", disable=not progress
    ):
        chunk = {rid: latest[rid] for rid in ids[start : start + COLLECTION_SIZE]}
        found = look_up(LookupPlan.of(chunk.values(), config), api, config)
        matches.update({rid: match(event, found, config.consent_field) for rid, event in chunk.items()})
        found_tasks |= found.task_subjects
    if len(latest) > bulk_threshold:
        report.method = "Bulk API 2.0"
        _bulk_upsert(api, [nps_record(latest[rid], matches[rid]) for rid in ids], report, progress, echo)
        plan = WritePlan(contacts=contact_updates(latest, matches))
        if with_tasks:
            plan.tasks = plan_writes(
                latest, matches, Found(task_subjects=found_tasks), {}, config, datetime.now(UTC)
            ).tasks
        outcome = write(plan, matches, api)
        report.tasks = len(plan.tasks) - sum(1 for rid, _ in plan.tasks if rid in outcome.retry)
        return report
    plan = plan_writes(latest, matches, Found(task_subjects=found_tasks), {}, config, datetime.now(UTC))
    outcome = write(plan, matches, api)
    report.succeeded = len(outcome.synced)
    for error in [*outcome.rejected.values(), *outcome.retry.values()]:
        report.failed[f"{error.code}: {error.message}"] += 1
    report.tasks = len(plan.tasks)
    return report


def _bulk_upsert(api: SalesforceClient, rows: list[dict[str, Any]], report: BackfillReport, progress: bool,
                 echo: Callable[[str], None]) -> None:  # fmt: skip
    """One Bulk API 2.0 ingest upsert job: create, upload CSV, close, poll, read the results."""
    columns = list(rows[0])
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([["" if row[c] is None else row[c] for c in columns] for row in rows])
    spec = {"object": NPS_OBJECT, "externalIdFieldName": EXTERNAL_ID, "contentType": "CSV", "operation": "upsert",
            "lineEnding": "LF"}  # fmt: skip
    job = api.request("POST", api.data_path("jobs/ingest/"), json=spec).json()
    report.job_id = job["id"]
    echo(f"Bulk API 2.0 job {job['id']}: uploading {len(rows)} records")
    api.request("PUT", api.data_path(f"jobs/ingest/{job['id']}/batches/"), data=text.getvalue().encode(),
                headers={"Content-Type": "text/csv"})  # fmt: skip
    api.request("PATCH", api.data_path(f"jobs/ingest/{job['id']}/"), json={"state": "UploadComplete"})
    with tqdm(total=len(rows), desc="Salesforce processing", unit="rec", disable=not progress) as bar:
        while True:
            info = api.request("GET", api.data_path(f"jobs/ingest/{job['id']}/")).json()
            bar.n = int(info.get("numberRecordsProcessed") or 0)
            bar.refresh()
            if info["state"] in ("JobComplete", "Failed", "Aborted"):
                break
            time.sleep(BULK_POLL_SECONDS)
    if info["state"] != "JobComplete":
        report.failed[f"job {info['state']}: {info.get('errorMessage', '')}"] += len(rows)
        return
    successes = api.request("GET", api.data_path(f"jobs/ingest/{job['id']}/successfulResults/")).text
    failures = api.request("GET", api.data_path(f"jobs/ingest/{job['id']}/failedResults/")).text
    report.succeeded = max(len(successes.strip().splitlines()) - 1, 0)
    for row in csv.DictReader(io.StringIO(failures)):
        report.failed[row.get("sf__Error", "unknown")] += 1


def parse_since(value: str) -> datetime:
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"--since takes a date like 2026-01-31, got {value!r}") from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at
