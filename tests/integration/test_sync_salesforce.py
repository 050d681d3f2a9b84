"""sync_salesforce in-process on moto, against the Salesforce stand-in over real HTTP."""

import json
import uuid
from datetime import UTC, datetime

import pytest
import requests
from sync_salesforce import handler as sync

from npsloop.models import CanonicalResponse, ScoredEvent
from npsloop_local.standin import SalesforceStandin


@pytest.fixture(scope="module")
def standin():
    server = SalesforceStandin()
    server.start("127.0.0.1", 0)
    yield server
    server.stop()


@pytest.fixture
def salesforce(standin, stack, monkeypatch):
    """The stack's secret pointed at the stand-in, wiped clean."""
    requests.post(f"{standin.url}/__standin/reset", timeout=10)
    secrets = stack.client("secretsmanager")
    secrets.put_secret_value(
        SecretId=stack.names.refs["AppSecret"],
        SecretString=json.dumps(
            {"sources": {}, "salesforce": {"login_url": standin.url, "client_id": "c", "client_secret": "s"}}
        ),
    )
    return standin


def scored_record(score, index, **fields):
    response = CanonicalResponse(response_id=f"generic:{index}", source="generic", score=score, **fields)
    detail = ScoredEvent(
        revision=1, received_at=datetime(2026, 8, 1, tzinfo=UTC), response=response, category=response.category
    ).model_dump(mode="json")
    envelope = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "ResponseScored",
        "source": "npsloop",
        "account": "123456789012",
        "time": "2026-08-01T00:00:00Z",
        "region": "eu-central-1",
        "resources": [],
        "detail": detail,
    }
    return {
        "messageId": f"m-{index}",
        "receiptHandle": "r",
        "body": json.dumps(envelope),
        "attributes": {},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn",
        "awsRegion": "eu-central-1",
    }


def stats(standin):
    return requests.get(f"{standin.url}/__standin/stats", timeout=10).json()


def records(standin, sobject="NPS_Response__c"):
    return requests.get(f"{standin.url}/__standin/records/{sobject}", timeout=10).json()


def test_a_batch_of_200_with_one_rejected_record(salesforce, stack, context):
    requests.post(
        f"{salesforce.url}/__standin/validation",
        timeout=10,
        json={
            "sobject": "NPS_Response__c",
            "field": "Response_Id__c",
            "equals": "generic:77",
            "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
            "message": "Comment required for detractors",
        },
    )
    event = {"Records": [scored_record(i % 11, i, email=f"person{i}@example.com") for i in range(200)]}
    assert sync.lambda_handler(event, context) == {"batchItemFailures": []}
    assert len(records(salesforce)) == 199
    dead = stack.queue_messages("SyncDeadLetterQueue")
    assert len(dead) == 1
    assert json.loads(dead[0]["Body"])["detail"]["response"]["response_id"] == "generic:77"
    attrs = dead[0]["MessageAttributes"]
    assert attrs["ErrorCode"]["StringValue"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert attrs["ErrorMessage"]["StringValue"] == "Comment required for detractors"
    # 200 responses: one SOQL query for the contacts, one sObject Collections upsert
    assert stats(salesforce)["total"] == 2


def test_contacts_matched_by_email_in_one_query_and_records_linked(salesforce, stack, context):
    token = requests.post(
        f"{salesforce.url}/services/oauth2/token",
        timeout=10,
        data={"grant_type": "client_credentials", "client_id": "c", "client_secret": "s"},
    ).json()
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    base = f"{salesforce.url}/services/data/v62.0/sobjects"
    account = requests.post(f"{base}/Account", json={"Name": "Acme"}, headers=auth, timeout=10).json()["id"]
    contact = requests.post(
        f"{base}/Contact",
        json={"LastName": "O'Brien", "Email": "o'brien@example.com", "AccountId": account},
        headers=auth,
        timeout=10,
    ).json()["id"]
    event = {"Records": [scored_record(3, 1, email="O'Brien@example.com"), scored_record(9, 2, email="x@example.com")]}
    assert sync.lambda_handler(event, context) == {"batchItemFailures": []}
    by_id = {r["Response_Id__c"]: r for r in records(salesforce)}
    assert (by_id["generic:1"]["Contact__c"], by_id["generic:1"]["Account__c"]) == (contact, account)
    assert by_id["generic:1"]["Category__c"] == "Detractor"
    assert by_id["generic:2"]["Contact__c"] is None


def test_server_unavailable_leaves_the_batch_queued(salesforce, stack, context):
    requests.post(
        f"{salesforce.url}/__standin/faults",
        json={"status": 503, "errorCode": "SERVER_UNAVAILABLE", "count": 1},
        timeout=10,
    )
    event = {"Records": [scored_record(5, 1, email="a@example.com"), scored_record(6, 2)]}
    result = sync.lambda_handler(event, context)
    assert {f["itemIdentifier"] for f in result["batchItemFailures"]} == {"m-1", "m-2"}
    assert records(salesforce) == []
    assert sync.lambda_handler(event, context) == {"batchItemFailures": []}
    assert len(records(salesforce)) == 2


def test_an_expired_session_is_refreshed_once_and_the_call_replayed(salesforce, stack, context):
    event = {"Records": [scored_record(8, 1)]}
    assert sync.lambda_handler(event, context) == {"batchItemFailures": []}
    requests.post(f"{salesforce.url}/__standin/expire-tokens", timeout=10)
    event = {"Records": [scored_record(9, 2)]}
    assert sync.lambda_handler(event, context) == {"batchItemFailures": []}
    assert len(records(salesforce)) == 2


def test_redelivery_upserts_the_same_record(salesforce, stack, context):
    event = {"Records": [scored_record(2, 1, comment="slow")]}
    sync.lambda_handler(event, context)
    sync.lambda_handler(event, context)
    assert len(records(salesforce)) == 1
