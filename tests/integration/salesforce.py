"""Helpers for tests that sync into the Salesforce stand-in: scored messages, records, counters, the secret."""

import json
import uuid
from datetime import UTC, datetime

import requests

from npsloop.models import CanonicalResponse, ScoredEvent


def scored_record(score, index, revision=1, **fields):
    """An SQS record carrying ResponseScored for `generic:<index>`, as Lambda hands it to sync_salesforce."""
    response = CanonicalResponse(response_id=f"generic:{index}", source="generic", score=score, **fields)
    detail = ScoredEvent(
        revision=revision, received_at=datetime(2026, 8, 1, tzinfo=UTC), response=response, category=response.category
    ).model_dump(mode="json")
    envelope = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "ResponseScored", "source": "npsloop",
                "account": "123456789012", "time": "2026-08-01T00:00:00Z", "region": "eu-central-1",
                "resources": [], "detail": detail}  # fmt: skip
    return {"messageId": f"m-{index}", "receiptHandle": "r", "body": json.dumps(envelope), "attributes": {},
            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": "arn",
            "awsRegion": "eu-central-1"}  # fmt: skip


def stats(standin):
    return requests.get(f"{standin.url}/__standin/stats", timeout=10).json()


def records(standin, sobject="NPS_Response__c"):
    return requests.get(f"{standin.url}/__standin/records/{sobject}", timeout=10).json()


def get(standin, sobject, record_id):
    return next(r for r in records(standin, sobject) if r["Id"] == record_id)


def use_secret(stack, salesforce):
    """Point the stack's secret at these Salesforce credentials."""
    stack.client("secretsmanager").put_secret_value(
        SecretId=stack.names.refs["AppSecret"], SecretString=json.dumps({"sources": {}, "salesforce": salesforce})
    )
