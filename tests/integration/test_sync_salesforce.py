"""sync_salesforce in-process on moto, against the Salesforce stand-in over real HTTP."""

import json
from datetime import UTC, datetime

import requests
from sync_salesforce import handler as sync

from npsloop.models import CanonicalResponse
from npsloop.stores.responses import ResponseStore

from .salesforce import records, scored_record, stats


def test_a_batch_of_200_with_one_rejected_record(org, stack, context):
    requests.post(
        f"{org.url}/__standin/validation",
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
    assert len(records(org)) == 199
    dead = stack.queue_messages("SyncDeadLetterQueue")
    assert len(dead) == 1
    assert json.loads(dead[0]["Body"])["detail"]["response"]["response_id"] == "generic:77"
    attrs = dead[0]["MessageAttributes"]
    assert attrs["ErrorCode"]["StringValue"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert attrs["ErrorMessage"]["StringValue"] == "Comment required for detractors"
    # 200 responses: one SOQL query for the contacts, one sObject Collections upsert
    assert stats(org)["total"] == 2


def test_contacts_matched_by_email_in_one_query_and_records_linked(org, stack, context):
    token = requests.post(
        f"{org.url}/services/oauth2/token",
        timeout=10,
        data={"grant_type": "client_credentials", "client_id": "c", "client_secret": "s"},
    ).json()
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    base = f"{org.url}/services/data/v62.0/sobjects"
    account = requests.post(f"{base}/Account", json={"Name": "Acme"}, headers=auth, timeout=10).json()["id"]
    contact = requests.post(
        f"{base}/Contact",
        json={"LastName": "O'Brien", "Email": "o'brien@example.com", "AccountId": account},
        headers=auth,
        timeout=10,
    ).json()["id"]
    event = {"Records": [scored_record(3, 1, email="O'Brien@example.com"), scored_record(9, 2, email="x@example.com")]}
    assert sync.lambda_handler(event, context) == {"batchItemFailures": []}
    by_id = {r["Response_Id__c"]: r for r in records(org)}
    assert (by_id["generic:1"]["Contact__c"], by_id["generic:1"]["Account__c"]) == (contact, account)
    assert by_id["generic:1"]["Category__c"] == "Detractor"
    assert by_id["generic:2"]["Contact__c"] is None


def test_server_unavailable_leaves_the_batch_queued(org, stack, context):
    requests.post(
        f"{org.url}/__standin/faults",
        json={"status": 503, "errorCode": "SERVER_UNAVAILABLE", "count": 1},
        timeout=10,
    )
    event = {"Records": [scored_record(5, 1, email="a@example.com"), scored_record(6, 2)]}
    result = sync.lambda_handler(event, context)
    assert {f["itemIdentifier"] for f in result["batchItemFailures"]} == {"m-1", "m-2"}
    assert records(org) == []
    assert sync.lambda_handler(event, context) == {"batchItemFailures": []}
    assert len(records(org)) == 2


def test_an_expired_session_is_refreshed_once_and_the_call_replayed(org, stack, context):
    event = {"Records": [scored_record(8, 1)]}
    assert sync.lambda_handler(event, context) == {"batchItemFailures": []}
    requests.post(f"{org.url}/__standin/expire-tokens", timeout=10)
    event = {"Records": [scored_record(9, 2)]}
    assert sync.lambda_handler(event, context) == {"batchItemFailures": []}
    assert len(records(org)) == 2


def test_redelivery_upserts_the_same_record(org, stack, context):
    event = {"Records": [scored_record(2, 1, comment="slow")]}
    sync.lambda_handler(event, context)
    sync.lambda_handler(event, context)
    assert len(records(org)) == 1


def test_a_redelivery_writes_no_link_the_item_already_holds(org, stack, context):
    # Given three stored responses synced once: each item holds its link (one write each)
    responses = ResponseStore(stack.names.refs["ResponsesTable"], stack.client("dynamodb"))
    received = datetime(2026, 8, 1, tzinfo=UTC)
    for i in (1, 2, 3):
        responses.create(CanonicalResponse(response_id=f"generic:{i}", source="generic", score=8), received_at=received)
    event = {"Records": [scored_record(8, i) for i in (1, 2, 3)]}
    stack.stream_event()  # the stream read up to the three creations
    assert sync.lambda_handler(event, context) == {"batchItemFailures": []}
    linked = stack.stream_event()["Records"]
    assert sorted(r["dynamodb"]["Keys"]["response_id"]["S"] for r in linked) == ["generic:1", "generic:2", "generic:3"]
    stored = responses.links(["generic:1", "generic:2", "generic:3"])
    assert {rid: link.synced.record_id for rid, link in stored.items()} == {
        r["Response_Id__c"]: r["Id"] for r in records(org)}  # fmt: skip
    # When the same message comes back (a redelivery) and is synced again
    assert sync.lambda_handler(event, context) == {"batchItemFailures": []}
    # Then Salesforce is upserted again, but no item is written: each already says the same
    assert len(records(org)) == 3
    assert stack.stream_event()["Records"] == []


def test_an_older_revision_arriving_late_does_not_overwrite_the_newer_record(org, stack, context):
    # Given revision 2 of a response stored and synced (score 9), revision 1 (score 3) held back by retries
    responses = ResponseStore(stack.names.refs["ResponsesTable"], stack.client("dynamodb"))
    first = CanonicalResponse(response_id="generic:1", source="generic", score=3)
    received = datetime(2026, 8, 1, tzinfo=UTC)
    assert responses.create(first, received_at=received) is None
    assert responses.save(first.model_copy(update={"score": 9}), revision=2, received_at=received)
    assert sync.lambda_handler({"Records": [scored_record(9, 1, revision=2)]}, context) == {"batchItemFailures": []}
    # When revision 1's message is delivered at last, alone and with another response
    late = {"Records": [scored_record(3, 1, revision=1)]}
    assert sync.lambda_handler(late, context) == {"batchItemFailures": []}
    late_with_other = {"Records": [scored_record(3, 1, revision=1), scored_record(7, 2)]}
    assert sync.lambda_handler(late_with_other, context) == {"batchItemFailures": []}
    # Then the record keeps the newer answer, and the other response is synced as usual
    by_id = {r["Response_Id__c"]: r for r in records(org)}
    assert by_id["generic:1"]["Score__c"] == 9
    assert by_id["generic:2"]["Score__c"] == 7
