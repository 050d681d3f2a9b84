"""notify in-process on moto: alerts by rule, turned detractors, Zapier fan-out, the promoter thank-you in SES."""

import json
import uuid
from datetime import UTC, datetime

import pytest
import requests
from notify import handler as notify

from npsloop.models import CanonicalResponse, ScoredEvent
from npsloop.stores.notify_state import NotifyState
from npsloop.stores.optouts import OptOutStore
from npsloop_local.standin import SalesforceStandin
from tests.mail import ses_mails
from tests.receivers import Receiver

SENDER = "nps@acme.example"


@pytest.fixture(scope="module")
def standin():
    server = SalesforceStandin()
    server.start("127.0.0.1", 0)
    yield server
    server.stop()


@pytest.fixture
def slack():
    receiver = Receiver(path="/services/T0/B0/X")
    yield receiver
    receiver.stop()


@pytest.fixture
def configure(stack, standin):
    """Set the secret's notify (and salesforce) configuration; verify the sender in moto's SES."""
    requests.post(f"{standin.url}/__standin/reset", timeout=10)
    stack.client("ses").verify_email_identity(EmailAddress=SENDER)

    def apply(notify_config, salesforce=True):
        from npsloop import aws

        value = {"sources": {}, "notify": notify_config}
        if salesforce:
            value["salesforce"] = {"login_url": standin.url, "client_id": "c", "client_secret": "s"}
        stack.client("secretsmanager").put_secret_value(
            SecretId=stack.names.refs["AppSecret"], SecretString=json.dumps(value)
        )
        aws.clear_cache()

    return apply


def followup_config(**followup):
    return {
        "token_key": "k" * 32,
        "public_url": "https://nps.acme.example",
        "email": {"sender": SENDER},
        "followup": {"company": "Acme", **followup},
    }


def record(score, rid=None, historical=False, revision=1, kind="ResponseScored", learned=None, **fields):
    rid = rid or uuid.uuid4().hex[:8]
    response = CanonicalResponse(
        response_id=f"generic:{rid}", source="generic", score=score, responded_at=datetime.now(UTC), **fields
    )
    detail = ScoredEvent(
        revision=revision,
        received_at=datetime.now(UTC),
        historical=historical,
        response=response,
        category=response.category,
    ).model_dump(mode="json") | (learned or {})
    body = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": kind,
        "source": "npsloop",
        "account": "123456789012",
        "time": "2026-08-01T00:00:00Z",
        "region": "eu-central-1",
        "resources": [],
        "detail": detail,
    }
    return {
        "messageId": f"m-{rid}",
        "receiptHandle": "r",
        "body": json.dumps(body),
        "attributes": {},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
    }


def run(context, *records):
    return notify.lambda_handler({"Records": list(records)}, context)


def sent_mail(stack):
    return ses_mails(stack.url)


def create(standin, sobject, fields):
    token = requests.post(
        f"{standin.url}/services/oauth2/token",
        timeout=10,
        data={"grant_type": "client_credentials", "client_id": "c", "client_secret": "s"},
    ).json()
    answer = requests.post(
        f"{standin.url}/services/data/v62.0/sobjects/{sobject}",
        json=fields,
        timeout=10,
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def test_detractor_posts_block_kit_with_a_salesforce_link_and_only_once(stack, context, configure, slack):
    configure({"slack_webhook_url": slack.url})
    message = record(
        3, comment="Too slow", contact_id="003000000000001AAA", touchpoint="support", email="ada@acme.example"
    )
    assert run(context, message) == {"batchItemFailures": []}
    assert run(context, message) == {"batchItemFailures": []}  # the same message again: nothing new
    assert len(slack.posts) == 1
    blocks = slack.json()[0]["blocks"]
    text = json.dumps(blocks)
    assert blocks[0]["text"]["text"] == "Detractor: 3/10"
    assert "Too slow" in text and "support" in text and "ada@acme.example" in text
    button = next(b for b in blocks if b["type"] == "actions")["elements"][0]
    assert button["url"].endswith("/003000000000001AAA")
    run(context, record(9), record(7))
    assert len(slack.posts) == 1  # promoters and passives are not alerted by the default rule


def test_a_promoter_who_answers_0_to_6_is_a_turned_detractor_and_rules_route_it(stack, context, configure, slack):
    teams = Receiver(path="/workflows/1")
    try:
        configure(
            {
                "slack_webhook_url": slack.url,
                "teams_webhook_url": teams.url,
                "rules": [
                    {"channel": "slack", "categories": ["turned_detractor"]},
                    {"channel": "teams", "categories": ["detractor"], "touchpoints": ["onboarding"]},
                ],
            },
            salesforce=False,
        )
        run(context, record(10, email="grace@acme.example", touchpoint="onboarding"))
        run(context, record(2, email="Grace@Acme.example", touchpoint="onboarding"))
        run(context, record(1, email="linus@acme.example", touchpoint="billing"))  # no rule matches
        assert [p["blocks"][0]["text"]["text"] for p in slack.json()] == ["Turned detractor: 2/10 (was promoter)"]
        card = teams.json()[0]["attachments"][0]
        assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
        assert card["content"]["body"][0]["text"] == "Turned detractor: 2/10 (was promoter)"
        assert len(teams.posts) == 1
    finally:
        teams.stop()


def test_two_answers_of_one_contact_in_one_batch_and_its_retry_alert_once(stack, context, configure, slack):
    configure({"slack_webhook_url": slack.url, "rules": [{"channel": "slack", "categories": ["turned_detractor"]}]},
              salesforce=False)  # fmt: skip
    batch = [record(9, email="ada@acme.example"), record(3, email="ADA@acme.example")]
    for _ in range(2):  # the same batch again (a retry): the same previous category, and the alert is done already
        assert run(context, *batch) == {"batchItemFailures": []}
    assert [p["blocks"][0]["text"]["text"] for p in slack.json()] == ["Turned detractor: 3/10 (was promoter)"]


def test_historical_events_alert_email_and_deliver_nothing(stack, context, configure, slack):
    configure({"slack_webhook_url": slack.url, **followup_config()}, salesforce=False)
    stack.client("dynamodb").put_item(
        TableName=stack.names.refs["HooksTable"],
        Item={
            "id": {"S": "sub_x"},
            "target_url": {"S": "https://hooks.zapier.com/1"},
            "event": {"S": "response.created"},
            "secret": {"S": "whsec_MTIzNDU2Nzg5MDEyMzQ1Njc4OTA="},
            "created_at": {"S": "t"},
            "created_by": {"S": "cli"},
        },
    )
    run(
        context,
        record(1, historical=True, email="old@acme.example"),
        record(10, historical=True, email="older@acme.example"),
    )
    assert slack.posts == [] and sent_mail(stack) == []
    assert stack.queue_messages("DeliveriesQueue") == []


def test_fan_out_queues_one_delivery_per_subscription_and_event(stack, context, configure):
    configure({}, salesforce=False)
    table = stack.names.refs["HooksTable"]
    for sub, event in (("sub_d", "response.detractor"), ("sub_all", "response.created")):
        stack.client("dynamodb").put_item(
            TableName=table,
            Item={
                "id": {"S": sub},
                "target_url": {"S": "https://hooks.zapier.com/x"},
                "event": {"S": event},
                "secret": {"S": "whsec_MTIzNDU2Nzg5MDEyMzQ1Njc4OTA="},
                "created_at": {"S": "t"},
                "created_by": {"S": "cli"},
            },
        )
    detractor = record(4, rid="fan-1", comment="meh", attributes={"plan": "pro"})
    run(context, detractor, record(9, rid="fan-2"))
    run(context, detractor)  # redelivered: no second fan-out
    bodies = [json.loads(m["Body"]) for m in stack.queue_messages("DeliveriesQueue", 20)]
    got = sorted((b["subscription_id"], b["payload"]["id"], b["event"]) for b in bodies)
    assert got == [
        ("sub_all", "generic:fan-1", "response.created"),
        ("sub_all", "generic:fan-2", "response.created"),
        ("sub_d", "generic:fan-1", "response.detractor"),
    ]
    payload = next(b["payload"] for b in bodies if b["subscription_id"] == "sub_d")
    assert payload["score"] == 4 and payload["category"] == "detractor" and payload["attribute_plan"] == "pro"
    assert all(not isinstance(v, dict | list) for v in payload.values())  # flat
    assert len({b["webhook_id"] for b in bodies}) == 3


def linked(score, **fields):
    """What the sync publishes once it has looked the respondent up (the thank-you waits for it)."""
    return record(score, kind="ResponseLinked", **fields)


def test_german_promoter_gets_a_german_thank_you_once_in_90_days(stack, context, configure):
    configure(followup_config())
    run(context, linked(10, email="jonas@acme.example", name="Jonas", locale="de-DE", touchpoint="support"))
    mails = sent_mail(stack)
    assert len(mails) == 1
    mail = mails[0]
    assert mail["to"] == ["jonas@acme.example"]
    assert mail["subject"] == "Vielen Dank für Ihr Feedback"
    assert "Hallo Jonas" in mail["body"] and "https://nps.acme.example/unsubscribe/" in mail["body"]
    assert mail["headers"]["List-Unsubscribe"].startswith("<https://nps.acme.example/unsubscribe/")
    assert mail["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Bewertung" not in mail["body"]  # review requests are off by default
    run(context, linked(9, email="JONAS@acme.example", locale="de"))
    assert len(sent_mail(stack)) == 1
    run(context, linked(9, email="mary@acme.example", locale="en-GB"))
    assert [m["subject"] for m in sent_mail(stack)][1:] == ["Thank you for your feedback"]


def test_opted_out_and_salesforce_opted_out_contacts_get_no_thank_you(stack, context, configure):
    configure(followup_config())
    OptOutStore(stack.names.refs["OptOutsTable"], stack.client("dynamodb")).add("Gone@Acme.example", "unsubscribed")
    run(context, linked(10, email="gone@acme.example"),
        linked(10, email="quiet@acme.example", learned={"email_opted_out": True}))  # fmt: skip
    assert sent_mail(stack) == []


def test_review_link_only_when_switched_on_and_with_consent(stack, context, configure):
    configure(followup_config(review_requests=True, review_urls={"support": "https://g.page/acme/review"},
                              consent={"salesforce_field": "Marketing_Consent__c"}))  # fmt: skip
    run(
        context,
        linked(10, email="yes@acme.example", touchpoint="support", attributes={"marketing_consent": "true"}),
        linked(10, email="sf@acme.example", touchpoint="support", learned={"marketing_consent": True}),
        linked(10, email="no@acme.example", touchpoint="support"),
    )
    bodies = {m["to"][0]: m["body"] for m in sent_mail(stack)}
    assert "https://g.page/acme/review" in bodies["yes@acme.example"]
    assert "https://g.page/acme/review" in bodies["sf@acme.example"]
    assert "https://g.page/acme/review" not in bodies["no@acme.example"]


def test_with_an_org_the_thank_you_waits_for_the_sync_and_asks_salesforce_nothing(stack, context, configure, standin):
    configure(followup_config())
    requests.post(f"{standin.url}/__standin/stats/reset", timeout=10)
    run(context, record(10, rid="wait", email="later@acme.example"))  # scored: fan-out and alerts only
    assert sent_mail(stack) == []
    run(context, linked(10, rid="wait", email="later@acme.example"))
    assert [m["to"] for m in sent_mail(stack)] == [["later@acme.example"]]
    assert requests.get(f"{standin.url}/__standin/stats", timeout=10).json()["total"] == 0


def test_without_an_org_the_thank_you_goes_out_when_scored(stack, context, configure):
    configure(followup_config(), salesforce=False)
    run(context, record(10, email="now@acme.example"))
    assert [m["to"] for m in sent_mail(stack)] == [["now@acme.example"]]


def test_a_skipped_thank_you_writes_no_done_marker_and_a_retry_skips_it_again(stack, context, configure):
    configure(followup_config())
    run(context, linked(10, rid="first", email="ada@acme.example"))
    state = NotifyState(stack.names.refs["NotifyTable"], stack.client("dynamodb"))
    assert state.done(["generic:first"]) == {"generic:first": {"followup"}}
    for _ in range(2):  # the cooldown holds the contact's slot for the first response: the second is skipped each time
        run(context, linked(10, rid="second", email="ada@acme.example"))
    assert len(sent_mail(stack)) == 1
    assert state.done(["generic:second"]) == {}  # a skip costs no write beyond the refused claim
