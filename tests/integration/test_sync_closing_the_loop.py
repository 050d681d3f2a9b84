"""Closing the loop in Salesforce: Contact and Account NPS fields, one Task per detractor, links learned, auth."""

from datetime import UTC, datetime

import pytest
import requests
from compute_score import handler as compute
from sync_salesforce import handler as sync

from npsloop import outbound
from npsloop.models import CanonicalResponse
from npsloop.salesforce import client as sf_client
from npsloop.stores.responses import AccountCounts, ResponseStore, SyncedTo
from npsloop_local.standin import SalesforceStandin

from .salesforce import get, records, scored_record, stats, use_secret


def test_detractor_gets_one_task_on_the_account_owner_and_the_fields_close_the_loop(org, stack, context):
    account = org.create("Account", {"Name": "Acme"})
    owner = get(org, "Account", account)["OwnerId"]
    contact = org.create("Contact", {"LastName": "Lovelace", "Email": "ada@example.com", "AccountId": account})
    requests.post(f"{org.url}/__standin/stats/reset", timeout=10)
    event = {
        "Records": [
            scored_record(
                3, 1, email="ada@example.com", comment="Support was slow", responded_at="2026-11-02T09:00:00Z"
            ),
            scored_record(10, 2, email="ada@example.com", responded_at="2026-11-01T09:00:00Z"),
        ]
    }
    assert sync.lambda_handler(event, context) == {"batchItemFailures": []}
    assert sync.lambda_handler(event, context) == {"batchItemFailures": []}  # redelivered: nothing twice

    (task,) = records(org, "Task")
    assert (task["OwnerId"], task["WhoId"], task["WhatId"], task["Priority"]) == (owner, contact, account, "High")
    assert "Support was slow" in task["Description"]
    person = get(org, "Contact", contact)
    assert (person["NPS_Last_Score__c"], person["NPS_Last_Category__c"]) == (3, "Detractor")  # the later answer
    company = get(org, "Account", account)
    assert company["NPS_Responses_12M__c"] == 2 and company["NPS_12M__c"] == 0.0  # one promoter, one detractor
    assert len(records(org)) == 2
    # each batch: one Composite of lookups, one Composite of writes
    assert stats(org)["total"] == 4


def test_links_learned_feed_the_account_segment_exactly_once(org, stack, context):
    account = org.create("Account", {"Name": "Acme"})
    org.create("Contact", {"LastName": "Lovelace", "Email": "ada@example.com", "AccountId": account})
    response = CanonicalResponse(response_id="generic:77", source="generic", score=9, email="ada@example.com",
                                 responded_at=datetime(2026, 11, 2, 9, tzinfo=UTC))  # fmt: skip
    store = ResponseStore(stack.names.refs["ResponsesTable"], stack.client("dynamodb"))
    assert store.create(response, received_at=datetime(2026, 11, 2, 9, 1, tzinfo=UTC)) is None  # as ingest stores it
    assert compute.lambda_handler(stack.stream_event(), context) == {"batchItemFailures": []}
    scored = stack.sqs_event("SyncQueue")
    assert sync.lambda_handler(scored, context) == {"batchItemFailures": []}
    assert sync.lambda_handler(scored, context) == {"batchItemFailures": []}  # redelivered
    linked = stack.queued_events("NotifyQueue")
    assert {e["detail-type"] for e in linked} == {"ResponseScored", "ResponseLinked"}
    assert compute.lambda_handler(stack.stream_event(), context) == {"batchItemFailures": []}  # the stored link
    assert stack.queue_messages("SyncQueue") == []  # a link publishes no second ResponseScored
    accounts = AccountCounts(stack.names.refs["ResponsesTable"], stack.client("dynamodb"))
    counted = {"month#2026-11": {"responses": 1, "promoters": 1, "score_9": 1}}
    assert accounts.between(f"account#{account}", "month#2026-01", "month#2026-12") == counted
    assert stack.aggregate(f"account#{account}", "month#2026-11") == {}  # not a counter of the Aggregates table

    later = response.model_copy(update={"score": 4, "updated_at": datetime(2026, 11, 3, tzinfo=UTC)})
    assert store.save(later, revision=2, received_at=datetime(2026, 11, 3, tzinfo=UTC))  # ingest's next revision
    counted = {"day#2026-11-02": {"responses": 1, "detractors": 1, "score_4": 1}}  # it keeps its link, latest answer
    assert accounts.between(f"account#{account}", "day#2026-11-01", "day#2026-11-30") == counted
    store.record_link("generic:77", 2, SyncedTo(None, None, "a0X77"))  # the sync matched nobody this time
    assert accounts.between(f"account#{account}", "month#2026-01", "month#2026-12") == {}


def test_unmatched_respondents_stay_unlinked_by_default(org, stack, context):
    sync.lambda_handler({"Records": [scored_record(5, 1, email="stranger@example.com")]}, context)
    assert records(org, "Lead") == []
    assert records(org)[0]["Contact__c"] is None


def test_jwt_bearer_flow(org, stack, context):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    use_secret(
        stack,
        {"login_url": org.url, "client_id": "consumer-key", "username": "integration@example.com", "private_key": pem},
    )
    assert sync.lambda_handler({"Records": [scored_record(8, 1)]}, context) == {"batchItemFailures": []}
    assert len(records(org)) == 1


def test_refused_credentials_fail_loudly_once_not_in_a_retry_loop(org, stack, context, monkeypatch):
    use_secret(
        stack,
        {
            "login_url": org.url,
            "client_id": "consumer-key",
            "username": "integration@example.com",
            "private_key": "not a PEM key",
        },
    )
    posts = []
    real_send = outbound.send  # every call to Salesforce, the token's too
    monkeypatch.setattr(outbound, "send", lambda *a, **kw: posts.append(a) or real_send(*a, **kw))
    for _ in range(3):
        with pytest.raises(sf_client.SalesforceAuthError, match="cannot sign the JWT"):
            sync.lambda_handler({"Records": [scored_record(8, 1)]}, context)
    assert posts == []  # refused before any token request; cached, so no loop either


def test_an_org_refusing_the_credentials_fails_loudly_with_its_message(org, stack, context):
    requests.post(
        f"{org.url}/__standin/token-refusal",
        timeout=10,
        json={"error": "invalid_grant", "error_description": "user hasn't approved this consumer"},
    )
    for _ in range(2):
        with pytest.raises(sf_client.SalesforceAuthError, match="user hasn't approved this consumer"):
            sync.lambda_handler({"Records": [scored_record(8, 1)]}, context)
    requests.delete(f"{org.url}/__standin/token-refusal", timeout=10)
    sf_client._refused.clear()  # the refusal is remembered for a minute per container; a new container retries
    assert sync.lambda_handler({"Records": [scored_record(8, 1)]}, context) == {"batchItemFailures": []}


def test_a_failed_batch_is_held_back_with_growing_delay(org, stack, context):
    queue = stack.names.refs["SyncQueue"]
    stack.client("sqs").send_message(QueueUrl=queue, MessageBody=scored_record(4, 1)["body"])
    requests.post(
        f"{org.url}/__standin/faults", json={"status": 503, "errorCode": "SERVER_UNAVAILABLE", "count": 2}, timeout=10
    )
    event = stack.sqs_event("SyncQueue")
    assert len(sync.lambda_handler(event, context)["batchItemFailures"]) == 1
    # held for the backoff (5 s on the first receive), not the queue's 360 s visibility timeout, and not at once
    assert stack.client("sqs").receive_message(QueueUrl=queue, WaitTimeSeconds=0).get("Messages") is None
    attrs = stack.client("sqs").get_queue_attributes(
        QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )
    assert attrs["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"


def test_past_the_api_share_the_sync_holds_batches_back(stack, context):
    small = SalesforceStandin(api_limit=4)
    small.start("127.0.0.1", 0)
    try:
        sf_client._tokens.clear()
        use_secret(stack, {"login_url": small.url, "client_id": "c", "client_secret": "s"})
        assert sync.lambda_handler({"Records": [scored_record(9, 1, email="a@example.com")]}, context) == {
            "batchItemFailures": []
        }
        used = stats(small)["total"]
        assert used == 2  # 2 of 4: at the 50 % share
        held = sync.lambda_handler({"Records": [scored_record(9, 2, email="b@example.com")]}, context)
        assert held == {"batchItemFailures": [{"itemIdentifier": "m-2"}]}
        assert stats(small)["total"] == used
    finally:
        small.stop()
        sf_client._tokens.clear()


def test_unable_to_lock_row_is_retried_and_the_rest_of_the_batch_goes_through(org, stack, context):
    rule = {
        "sobject": "NPS_Response__c",
        "field": "Response_Id__c",
        "equals": "generic:2",
        "errorCode": "UNABLE_TO_LOCK_ROW",
        "message": "unable to obtain exclusive access to this record",
    }
    requests.post(f"{org.url}/__standin/validation", json=rule, timeout=10)
    event = {"Records": [scored_record(9, 1), scored_record(9, 2), scored_record(9, 3)]}
    assert sync.lambda_handler(event, context) == {"batchItemFailures": [{"itemIdentifier": "m-2"}]}
    assert sorted(r["Response_Id__c"] for r in records(org)) == ["generic:1", "generic:3"]
    requests.delete(f"{org.url}/__standin/validation", timeout=10)
    assert sync.lambda_handler({"Records": [scored_record(9, 2)]}, context) == {"batchItemFailures": []}
    assert len(records(org)) == 3
