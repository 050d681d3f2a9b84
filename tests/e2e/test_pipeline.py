"""The pipeline end to end over real HTTP: a signed webhook becomes a scored NPS_Response__c in the stand-in."""

import json
from datetime import UTC, datetime

import pytest
import requests
from standardwebhooks import Webhook

from npsloop.stores.archive import ArchiveBucket
from npsloop_local.signing import typeform_signature

from .conftest import GENERIC_SECRET, TYPEFORM_SECRET

pytestmark = pytest.mark.e2e


def post_generic(local, payload, msg_id="msg_e2e"):
    body = json.dumps(payload).encode()
    now = datetime.now(UTC)
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(GENERIC_SECRET).sign(msg_id, now, body.decode()),
    }
    return requests.post(f"{local.api}/webhooks/generic", data=body, headers=headers, timeout=30)


def post_typeform(local, payload):
    body = json.dumps(payload).encode()
    headers = {"content-type": "application/json", "Typeform-Signature": typeform_signature(TYPEFORM_SECRET, body)}
    return requests.post(f"{local.api}/webhooks/typeform", data=body, headers=headers, timeout=30)


def salesforce_token(local):
    answer = local.standin(
        "POST",
        "/services/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": "t", "client_secret": "t"},
    )
    return answer.json()["access_token"]


def create(local, sobject, fields):
    answer = local.standin(
        "POST",
        f"/services/data/v62.0/sobjects/{sobject}",
        json=fields,
        headers={"Authorization": f"Bearer {salesforce_token(local)}"},
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def nps_record(local, response_id, timeout=30.0):
    def find():
        return next((r for r in local.records("NPS_Response__c") if r.get("Response_Id__c") == response_id), None)

    return local.wait_for(find, timeout, f"NPS_Response__c {response_id}")


def aggregate(local, pk, sk):
    item = (
        local.client("dynamodb")
        .get_item(TableName="npsloop-local-aggregatestable", Key={"pk": {"S": pk}, "sk": {"S": sk}})
        .get("Item", {})
    )
    return {k: int(v["N"]) for k, v in item.items() if "N" in v}


def test_typeform_and_generic_webhooks_become_scored_records_on_the_right_contact(local, slack):
    account = create(local, "Account", {"Name": "Acme GmbH"})
    contact = create(local, "Contact", {"LastName": "Lovelace", "Email": "ada@acme.example", "AccountId": account})
    typeform = {
        "event_id": "e1",
        "event_type": "form_response",
        "form_response": {
            "form_id": "f1",
            "token": "e2e-typeform-1",
            "submitted_at": "2026-09-03T08:00:00Z",
            "hidden": {"touchpoint": "onboarding"},
            "answers": [
                {"type": "number", "number": 10, "field": {"id": "q1", "type": "opinion_scale"}},
                {"type": "email", "email": "Ada@Acme.example", "field": {"id": "q2", "type": "email"}},
                {"type": "text", "text": "Setup took minutes", "field": {"id": "q3", "type": "long_text"}},
            ],
        },
    }
    answer = post_typeform(local, typeform)
    assert (answer.status_code, answer.json()) == (202, {"response_id": "typeform:e2e-typeform-1"})
    answer = post_generic(
        local,
        {
            "response_id": "e2e-g-1",
            "score": 4,
            "comment": "Too slow",
            "contact_id": contact,
            "touchpoint": "onboarding",
            "responded_at": "2026-09-04T08:00:00Z",
        },
    )
    assert answer.status_code == 202, answer.text

    record = nps_record(local, "typeform:e2e-typeform-1")
    assert (record["Score__c"], record["Category__c"], record["Comment__c"]) == (10, "Promoter", "Setup took minutes")
    assert (record["Contact__c"], record["Account__c"]) == (contact, account)
    record = nps_record(local, "generic:e2e-g-1")
    assert (record["Score__c"], record["Category__c"], record["Comment__c"]) == (4, "Detractor", "Too slow")
    assert (record["Contact__c"], record["Account__c"]) == (contact, account)

    # one promoter, one detractor in September for this touchpoint: NPS = 100 * (1 - 1) / 2 = 0
    counts = local.wait_for(
        lambda: (c := aggregate(local, "touchpoint#onboarding", "month#2026-09")) and c.get("responses") == 2 and c,
        what="aggregates",
    )
    assert (counts["promoters"], counts.get("passives", 0), counts["detractors"]) == (1, 0, 1)
    local.wait_for(lambda: any("Too slow" in json.dumps(p) for p in slack.posts), what="the Slack alert")
    log = local.log.read_text()
    for personal in ("ada@acme.example", "Ada@Acme.example", "Setup took minutes", "Too slow"):
        assert personal not in log, f"the functions' logs carry {personal!r}"
    assert "detractor alert" in log


def test_the_same_delivery_three_times_is_one_record_one_count_one_event(local, slack):
    payload = {"response_id": "e2e-dup", "score": 2, "touchpoint": "dup-test", "responded_at": "2026-10-01T08:00:00Z"}
    answers = [post_generic(local, payload) for _ in range(3)]
    assert [a.status_code for a in answers] == [202, 200, 200]
    assert answers[1].json() == {"duplicate": True, "response_id": "generic:e2e-dup"}
    nps_record(local, "generic:e2e-dup")
    local.wait_for(lambda: aggregate(local, "touchpoint#dup-test", "month#2026-10").get("responses"), what="count")
    local.wait_for(lambda: any("generic:e2e-dup" in json.dumps(p) for p in slack.posts), what="the alert")
    import time

    time.sleep(2)  # give a wrongly published second event time to show up
    assert aggregate(local, "touchpoint#dup-test", "month#2026-10")["responses"] == 1
    assert sum(r.get("Response_Id__c") == "generic:e2e-dup" for r in local.records("NPS_Response__c")) == 1
    assert sum("generic:e2e-dup" in json.dumps(p) for p in slack.posts) == 1


def test_bad_deliveries_get_clear_4xx_never_5xx_and_all_are_archived(local):
    def archived():  # deliveries, each one Firehose record (rejected marks are records too, but not deliveries)
        return len(ArchiveBucket("npsloop-local-archivebucket", local.client("s3")).contents("").deliveries)

    before = archived()
    cases = [
        (post_generic(local, "{not json"), 400),  # a JSON string, not an object
        (post_generic(local, {"response_id": "bad", "score": 11}), 422),
        (post_generic(local, {"response_id": "big", "score": 1, "pad": "x" * 300_000}), 413),
        (
            requests.post(
                f"{local.api}/webhooks/generic",
                json={"response_id": "x", "score": 1},
                timeout=30,
                headers={"webhook-id": "m", "webhook-timestamp": "1", "webhook-signature": "v1,AAAA"},
            ),
            401,
        ),
        (requests.post(f"{local.api}/webhooks/nosuchtool", json={"response_id": "x", "score": 1}, timeout=30), 404),
    ]
    for answer, status in cases:
        assert answer.status_code == status, answer.text
        assert answer.json()["error"]
    assert cases[1][0].json()["field"] == "score"
    raw = b"{not json"
    now = datetime.now(UTC)
    headers = {
        "content-type": "application/json",
        "webhook-id": "m2",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(GENERIC_SECRET).sign("m2", now, raw.decode()),
    }
    answer = requests.post(f"{local.api}/webhooks/generic", data=raw, headers=headers, timeout=30)
    assert answer.status_code == 400 and "JSON" in answer.json()["error"]
    assert archived() - before == len(cases) + 1


def test_unrouted_paths_answer_404_like_api_gateway(local):
    answer = requests.get(f"{local.api}/nowhere", timeout=30)
    assert answer.status_code == 404
