"""`npsloop erase` on moto and the Salesforce stand-in: no trace of the address anywhere, aggregates unchanged."""

import base64
import json
import urllib.parse

import pytest
import requests
from compute_score import handler as compute
from notify import handler as notify
from sync_salesforce import handler as sync

from npsloop.stores.optouts import address_hash
from npsloop_local.cli import main as npsloop

from .conftest import GENERIC_SECRET, SOURCE_SECRETS, generic_headers
from .salesforce import records
from .test_ingest import generic, post

ADA = "ada@example.com"
BOB = "bob@example.com"
TRACES = (ADA, urllib.parse.quote(ADA, safe=""))


def drain(stack, context, queue, handler):
    while (event := stack.sqs_event(queue, max_messages=100))["Records"]:
        assert handler.lambda_handler(event, context) == {"batchItemFailures": []}


def count(stack, context):
    while (event := stack.stream_event())["Records"]:
        assert compute.lambda_handler(event, context) == {"batchItemFailures": []}


def dump_tables(stack):
    """Every item of every DynamoDB table, as text."""
    ddb = stack.client("dynamodb")
    out = {}
    for name in ddb.list_tables()["TableNames"]:
        items = [i for p in ddb.get_paginator("scan").paginate(TableName=name) for i in p["Items"]]
        out[name] = items
    return out


def archive_versions(stack):
    s3, bucket = stack.client("s3"), stack.names.refs["ArchiveBucket"]
    versions = s3.list_object_versions(Bucket=bucket).get("Versions", [])
    return {(v["Key"], v["VersionId"]): s3.get_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])[
        "Body"].read() for v in versions}  # fmt: skip


def traces(text):
    return [t for t in TRACES if t in text.lower()]


def archived_text(stored: bytes) -> str:
    """An archived object as text, with the body of each delivery (one JSON line each) decoded from its record."""
    text = stored.decode("latin-1")
    for line in stored.splitlines():
        try:
            text += base64.b64decode(json.loads(line)["body_base64"]).decode("latin-1")
        except (ValueError, KeyError, TypeError):
            pass
    return text


@pytest.fixture
def pipeline(stack, org, context):
    """Ada answered three ways (JSON, a form, a rejected and an unsigned delivery), Bob named her in his comment, Cy
    answered too; everything scored, synced and notified. Returns Ada's Contact id."""
    account = org.create("Account", {"Name": "Acme"})
    contact = org.create("Contact", {"LastName": "Lovelace", "Email": ADA, "AccountId": account})
    org.create("Lead", {"LastName": "ada", "Email": ADA, "Company": "[not provided]", "LeadSource": "NPS"})
    secret = {"sources": SOURCE_SECRETS, "salesforce": {"login_url": org.url, "client_id": "c", "client_secret": "s"}}
    stack.client("secretsmanager").put_secret_value(SecretId=stack.names.refs["AppSecret"],
                                                    SecretString=json.dumps(secret))  # fmt: skip
    at = "2026-08-03T10:00:00Z"
    assert generic(context, {"response_id": "a1", "score": 3, "email": "Ada@Example.com", "comment": "Too slow",
                             "touchpoint": "support", "responded_at": at})[0] == 202  # fmt: skip
    form = urllib.parse.urlencode({"response_id": "a2", "score": "10", "email": ADA, "comment": "Great"}).encode()
    status, _ = post(context, "zapier", form, {"x-npsloop-token": "zapier-token"},
                     content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert status == 202
    assert generic(context, {"response_id": "b1", "score": 6, "email": BOB, "comment": f"ask {ADA.upper()} too",
                             "responded_at": at})[0] == 202  # fmt: skip
    assert generic(context, {"response_id": "c1", "score": 9, "email": "cy@example.com", "responded_at": at})[0] == 202
    assert generic(context, {"response_id": "a3", "score": 11, "email": ADA})[0] == 422  # rejected, kept in raw/
    body = json.dumps({"response_id": "a4", "score": 9, "email": ADA}).encode()
    assert post(context, "generic", body, generic_headers(body, secret="whsec_" + "A" * 32))[0] == 401
    assert GENERIC_SECRET not in body.decode()
    count(stack, context)
    drain(stack, context, "SyncQueue", sync)
    drain(stack, context, "NotifyQueue", notify)
    count(stack, context)  # the accounts the sync linked
    return contact


def test_erase_leaves_no_trace_in_dynamodb_s3_or_salesforce_and_aggregates_unchanged(
    stack, org, context, pipeline, capsys
):
    s3, bucket = stack.client("s3"), stack.names.refs["ArchiveBucket"]
    # an older version of an archived object that held the address, overwritten by a clean one: both are versions
    s3.put_object(Bucket=bucket, Key="raw/generic/2026/01/01/000000000000-old.json", Body=f"not json {ADA}".encode())
    s3.put_object(Bucket=bucket, Key="raw/generic/2026/01/01/000000000000-old.json", Body=b'{"clean": true}')
    # Firehose batches deliveries into one object (locally moto writes one per record): Ada's, Bob's and Cy's
    batched = "raw/2026/08/03/10/npsloop-archivestream-1-2026-08-03-10-05-00-batched"
    lines = b"".join(s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in stack.archive_keys()
                     if k.startswith("raw/") and not k.endswith("-old.json"))  # fmt: skip
    s3.put_object(Bucket=bucket, Key=batched, Body=lines)
    sqs, dlq = stack.client("sqs"), stack.names.refs["SyncDeadLetterQueue"]
    sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"detail": {"response": {"email": ADA}}}))
    sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"detail": {"response": {"email": BOB}}}))
    before = dump_tables(stack)
    assert traces(json.dumps(before)) and any(traces(archived_text(b)) for b in archive_versions(stack).values())
    assert traces(json.dumps(records(org))) and len(records(org, "Lead")) == 1
    assert len(records(org, "Task")) == 2  # Ada's and Bob's detractor Tasks
    clean_versions = len([v for v in archive_versions(stack).values() if not traces(archived_text(v))])
    aggregates = stack.names.refs["AggregatesTable"]

    assert npsloop(["erase", "--email", "ADA@example.com", "--aws-url", stack.url]) == 0
    printed = capsys.readouterr().out
    assert "Responses table: 3 answers removed" in printed and "generic:b1" in printed
    assert "Salesforce: 3 NPS_Response__c, 2 Tasks, 1 Leads deleted; 1 Contacts' NPS fields cleared" in printed
    assert "dead-letter queues: 1 messages deleted" in printed and ADA not in printed.lower()

    after = dump_tables(stack)
    assert traces(json.dumps(after)) == []
    assert after[aggregates] == before[aggregates]  # still counted, anonymously
    assert [v for v in archive_versions(stack).values() if traces(archived_text(v))] == []
    assert len(archive_versions(stack)) == clean_versions + 1  # only what named her went, the batch written again
    kept = stack.archive().contents(batched).deliveries
    assert [json.loads(d.delivery().body)["response_id"] for d in kept] == ["c1"]  # Cy's delivery stays
    assert [r["Response_Id__c"] for r in records(org)] == ["generic:c1"]
    assert records(org, "Task") == [] and records(org, "Lead") == []
    (person,) = [c for c in records(org, "Contact") if c["Id"] == pipeline]
    assert {person.get(f) for f in ("NPS_Last_Score__c", "NPS_Last_Category__c", "NPS_Last_Responded_At__c")} == {None}
    left = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
    assert [BOB in m["Body"] for m in left] == [True]
    optout = stack.client("dynamodb").get_item(TableName=stack.names.refs["OptOutsTable"],
                                               Key={"address_hash": {"S": address_hash(ADA)}})["Item"]  # fmt: skip
    assert optout["reason"]["S"] == "erased"

    # her answer delivered again is not stored again; Cy is untouched; a second run finds nothing left
    again = generic(context, {"response_id": "a1", "score": 3, "email": ADA, "responded_at": "2026-08-03T10:00:00Z"})
    assert again == (200, {"erased": True, "response_id": "generic:a1"})
    count(stack, context)  # the erasure and the refused redelivery move nothing
    assert npsloop(["erase", "--email", ADA, "--aws-url", stack.url]) == 0
    assert "Responses table: 0 answers removed" in capsys.readouterr().out


def test_erase_refuses_what_is_not_an_address_and_changes_nothing(stack, capsys):
    assert npsloop(["erase", "--email", "ada", "--aws-url", stack.url, "--no-salesforce"]) == 1
    assert "takes an email address" in capsys.readouterr().err
    items = stack.client("dynamodb").scan(TableName=stack.names.refs["OptOutsTable"])["Items"]
    assert items == []


def test_salesforce_down_stops_erase_before_anything_in_aws_changes(stack, context, capsys):
    assert generic(context, {"response_id": "a1", "score": 3, "email": ADA})[0] == 202
    assert npsloop(["erase", "--email", ADA, "--aws-url", stack.url]) == 1  # the secret's org is 127.0.0.1:9
    assert "Salesforce: CONNECTION_ERROR" in capsys.readouterr().err
    assert traces(json.dumps(dump_tables(stack)))


def test_raw_retention_days_reach_the_archive_bucket_lifecycle_in_moto(stack, moto_url):
    from npsloop_local.resources import create_all
    from npsloop_local.template import Template

    def raw_rule():
        rules = stack.client("s3").get_bucket_lifecycle_configuration(Bucket=stack.names.refs["ArchiveBucket"])
        return next(r for r in rules["Rules"] if r["ID"] == "expire-raw-deliveries")

    rule = raw_rule()
    assert rule["Filter"]["Prefix"] == "raw/" and rule["Expiration"]["Days"] == 400  # the template's default
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 1
    requests.post(f"{moto_url}/moto-api/reset", timeout=10)
    template = Template()
    template.parameters["RawRetentionDays"] = "30"  # as `--parameter-overrides RawRetentionDays=30` gives it
    create_all(template, moto_url, {"sources": {}})
    assert raw_rule()["Expiration"]["Days"] == 30
