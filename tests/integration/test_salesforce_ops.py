"""`npsloop redrive` and `npsloop backfill` against moto and the Salesforce stand-in."""

import json
from datetime import UTC, datetime

import pytest
import requests
from sync_salesforce import handler as sync

from npsloop.models import CanonicalResponse, iso
from npsloop.salesforce import client as sf_client
from npsloop_local.cli import main as npsloop
from npsloop_local.ops import Target
from npsloop_local.salesforce_ops import backfill
from npsloop_local.standin import SalesforceStandin

from .test_sync_salesforce import records, scored_record, stats


@pytest.fixture(scope="module")
def standin():
    server = SalesforceStandin()
    server.start("127.0.0.1", 0)
    yield server
    server.stop()


@pytest.fixture
def org(standin, stack):
    requests.post(f"{standin.url}/__standin/reset", timeout=10)
    sf_client._tokens.clear()
    stack.client("secretsmanager").put_secret_value(
        SecretId=stack.names.refs["AppSecret"],
        SecretString=json.dumps(
            {"sources": {}, "salesforce": {"login_url": standin.url, "client_id": "c", "client_secret": "s"}}
        ),
    )
    return standin


def peek(stack, queue):
    """The queue's messages, left visible (one receive of up to 10)."""
    return (
        stack.client("sqs")
        .receive_message(
            QueueUrl=stack.names.refs[queue], MaxNumberOfMessages=10, VisibilityTimeout=0, MessageAttributeNames=["All"]
        )
        .get("Messages", [])
    )


def test_rejected_record_waits_in_the_dlq_with_its_code_and_redrive_brings_it_in(org, stack, context):
    rule = {
        "sobject": "NPS_Response__c",
        "field": "Response_Id__c",
        "equals": "generic:1",
        "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        "message": "Comment required for detractors",
    }
    requests.post(f"{org.url}/__standin/validation", json=rule, timeout=10)
    queue = stack.names.refs["SyncQueue"]
    stack.client("sqs").send_message(QueueUrl=queue, MessageBody=scored_record(2, 1)["body"])
    assert sync.lambda_handler(stack.sqs_event("SyncQueue"), context) == {"batchItemFailures": []}
    (dead,) = peek(stack, "SyncDeadLetterQueue")
    assert dead["MessageAttributes"]["ErrorCode"]["StringValue"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert records(org) == []

    requests.delete(f"{org.url}/__standin/validation", timeout=10)
    assert npsloop(["redrive", "--aws-url", stack.url]) == 0
    assert peek(stack, "SyncDeadLetterQueue") == []
    assert sync.lambda_handler(stack.sqs_event("SyncQueue"), context) == {"batchItemFailures": []}
    assert [r["Response_Id__c"] for r in records(org)] == ["generic:1"]


def seed_responses(stack, count, detractor_every=5):
    ddb = stack.client("dynamodb")
    items = []
    for i in range(count):
        response = CanonicalResponse(
            response_id=f"generic:b{i}",
            source="generic",
            score=3 if i % detractor_every == 0 else 9,
            email=f"person{i}@example.com",
            responded_at=datetime(2026, 6, 1 + i % 28, tzinfo=UTC),
        )
        items.append(
            {
                "PutRequest": {
                    "Item": {
                        "response_id": {"S": response.response_id},
                        "data": {"S": response.model_dump_json()},
                        "revision": {"N": "1"},
                        "content_hash": {"S": response.content_hash()},
                        "version_at": {"S": iso(response.responded_at)},
                        "received_at": {"S": iso(response.responded_at)},
                        "source": {"S": "generic"},
                        "historical": {"BOOL": True},
                        "published": {"BOOL": True},
                    }
                }
            }
        )
    for start in range(0, len(items), 25):
        ddb.batch_write_item(RequestItems={stack.names.refs["ResponsesTable"]: items[start : start + 25]})


def test_backfill_of_5000_uses_one_bulk_job_and_brings_all_in(org, stack, capsys):
    seed_responses(stack, 5000)
    requests.post(f"{org.url}/__standin/stats/reset", timeout=10)
    report = backfill(Target(aws_url=stack.url), datetime(2026, 1, 1, tzinfo=UTC))
    assert (report.responses, report.succeeded, report.failed, report.method) == (5000, 5000, {}, "Bulk API 2.0")
    assert report.job_id and report.tasks == 0
    assert len(records(org)) == 5000
    assert records(org, "Task") == []
    assert stats(org)["by_kind"]["bulk"] >= 5  # create, upload, close, poll, results
    progress = capsys.readouterr().err
    assert "matching contacts" in progress and "Salesforce processing" in progress


def test_small_backfill_uses_collections_and_makes_tasks_only_when_asked(org, stack, capsys):
    seed_responses(stack, 30)
    assert npsloop(["backfill", "--since", "2026-06-10", "--aws-url", stack.url]) == 0
    out = capsys.readouterr().out
    in_range = sum(1 for i in range(30) if 1 + i % 28 >= 10)
    assert f"{in_range} stored responses, {in_range} in Salesforce, 0 failed (via collections; 0 Tasks" in out
    assert records(org, "Task") == []
    assert npsloop(["backfill", "--since", "2026-01-01", "--with-tasks", "--aws-url", stack.url]) == 0
    assert len(records(org, "Task")) == 6  # every fifth of 30 is a detractor
    assert npsloop(["backfill", "--since", "2026-01-01", "--with-tasks", "--aws-url", stack.url]) == 0
    assert len(records(org, "Task")) == 6  # never a second Task for one response


def test_backfill_reports_failures_with_their_reason(org, stack, capsys):
    seed_responses(stack, 3)
    rule = {
        "sobject": "NPS_Response__c",
        "field": "Response_Id__c",
        "equals": "generic:b1",
        "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        "message": "Blocked by a rule",
    }
    requests.post(f"{org.url}/__standin/validation", json=rule, timeout=10)
    assert npsloop(["backfill", "--since", "2026-01-01", "--aws-url", stack.url]) == 1
    assert "failed 1 x FIELD_CUSTOM_VALIDATION_EXCEPTION: Blocked by a rule" in capsys.readouterr().out
