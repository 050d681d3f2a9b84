"""Survey reminders in-process on moto: a sent invitation plans its reminder, the hourly run (fired with the time "N
days later") queues only the due, unanswered ones, send_survey mails each once (skipping who opted out, bounced or
was erased); and send_survey's claim: a job another container holds comes back, a lapsed claim is sent."""

import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from answer_survey import handler as answer_handler
from remind_surveys import handler as remind_handler
from send_survey import handler as send_handler
from surveys_api import handler as api_handler

from npsloop import config, tokens
from npsloop.apikeys import ApiKeyStore, new_key
from npsloop.stores.notify_state import NotifyState
from npsloop.stores.optouts import OptOutStore, address_hash
from npsloop.stores.surveys import SurveyLedger
from npsloop.surveys.deliver import CLAIM_SECONDS, send_invitations
from npsloop_local.cli import main as npsloop
from tests.mail import ses_mails

from .test_surveys import call, set_secret

ADA, BEN, CARL, DORA, EVE, FINN = (f"{n}@acme.example" for n in ("ada", "ben", "carl", "dora", "eve", "finn"))


@pytest.fixture
def reminders_on(stack, monkeypatch):
    """SurveyReminderDays=3 (the template parameter's environment variable)."""
    monkeypatch.setenv("SURVEY_REMINDER_DAYS", "3")
    config.settings.cache_clear()


def send(stack, context, recipients):
    key = new_key()
    ApiKeyStore(stack.names.refs["ApiKeysTable"], stack.client("dynamodb")).add(key, "flow")
    answer = call(api_handler, context, "POST", "/surveys/send", "/surveys/send",
                  json.dumps({"recipients": recipients}).encode(), [("x-api-key", key)])  # fmt: skip
    assert [r["status"] for r in json.loads(answer["body"])["results"]] == ["queued"] * len(recipients)
    drain(stack, context)


def drain(stack, context):
    while (event := stack.sqs_event("SurveyQueue"))["Records"]:
        assert send_handler.lambda_handler(event, context) == {"batchItemFailures": []}


def fire(context, at):
    """The hourly schedule, as EventBridge hands it, with the time `at`."""
    event = {"version": "0", "id": "e1", "detail-type": "Scheduled Event", "source": "aws.events",
             "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "detail": {}, "resources": []}  # fmt: skip
    return remind_handler.lambda_handler(event, context)


def mails(stack, subject_start):
    return [m for m in ses_mails(stack.url) if m["subject"].startswith(subject_start)]


def survey_id_of(mail):
    token = re.search(r"/r/([^?\"]+)\?score=0", mail["body"]).group(1)
    return tokens.peek(token)["survey_id"], token


def test_the_reminder_goes_once_to_who_did_not_answer_opt_out_or_get_erased(stack, context, reminders_on):
    set_secret(stack, surveys={"company": "Acme", "touchpoint_reminder_days": {"shop": 0}})
    sent_at = datetime.now(UTC)
    send(stack, context, [{"email": a, "touchpoint": "support", "locale": "de" if a == BEN else "en"}
                          for a in (ADA, BEN, CARL, DORA, EVE)] + [{"email": FINN, "touchpoint": "shop"}])  # fmt: skip
    invitations = {m["to"][0]: m for m in mails(stack, "How likely") + mails(stack, "Wie wahrscheinlich")}
    assert sorted(invitations) == sorted([ADA, BEN, CARL, DORA, EVE, FINN])

    # Given: Ben answers (the comment form records at once), Carl unsubscribes, Eve's address bounces, Dora is erased
    _, ben_token = survey_id_of(invitations[BEN])
    saved = call(answer_handler, context, "POST", f"/r/{ben_token}", "/r/{token}", urlencode({"score": 9}).encode(),
                 [("content-type", "application/x-www-form-urlencoded")])  # fmt: skip
    assert saved["statusCode"] == 200
    optouts = OptOutStore(stack.names.refs["OptOutsTable"], stack.client("dynamodb"))
    optouts.add(CARL, "unsubscribed")
    optouts.add(EVE, "bounce")
    assert npsloop(["erase", "--email", DORA, "--aws-url", stack.url, "--no-salesforce"]) == 0
    notify_items = [i for p in stack.client("dynamodb").get_paginator("scan").paginate(
        TableName=stack.names.refs["NotifyTable"]) for i in p["Items"]]  # fmt: skip
    assert DORA not in json.dumps(notify_items) and address_hash(DORA) not in json.dumps(notify_items)

    # When: the schedule fires two days later, nothing is due; three days later, Ada, Ben, Carl and Eve are
    assert fire(context, sent_at + timedelta(days=2, hours=23)) == {"due": 0, "queued": 0, "answered": 0}
    assert stack.sqs_event("SurveyQueue")["Records"] == []
    assert fire(context, sent_at + timedelta(days=3, minutes=1)) == {"due": 4, "queued": 3, "answered": 1}
    event = stack.sqs_event("SurveyQueue")
    assert sorted(json.loads(r["body"])["email"] for r in event["Records"]) == [ADA, CARL, EVE]
    assert all(json.loads(r["body"])["reminder"] is True for r in event["Records"])
    assert send_handler.lambda_handler(event, context) == {"batchItemFailures": []}
    assert send_handler.lambda_handler(event, context) == {"batchItemFailures": []}  # redelivered: not again
    assert fire(context, sent_at + timedelta(days=3, hours=1)) == {"due": 0, "queued": 0, "answered": 0}  # dropped

    # Then: one reminder, to Ada only, in her language, with links to the same invitation and List-Unsubscribe
    [reminder] = mails(stack, "Reminder")
    assert reminder["to"] == [ADA] and mails(stack, "Erinnerung") == []
    assert reminder["subject"] == "Reminder: how likely are you to recommend Acme?"
    assert "A few days ago we asked for your opinion." in reminder["body"]
    assert survey_id_of(reminder)[0] == survey_id_of(invitations[ADA])[0]
    assert reminder["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert len(ses_mails(stack.url)) == 7


def test_a_job_another_container_holds_comes_back_and_a_lapsed_claim_is_sent(stack, context):
    set_secret(stack)
    key = new_key()
    ApiKeyStore(stack.names.refs["ApiKeysTable"], stack.client("dynamodb")).add(key, "flow")
    body = json.dumps({"recipients": [{"email": ADA}]}).encode()
    call(api_handler, context, "POST", "/surveys/send", "/surveys/send", body, [("x-api-key", key)])
    event = stack.sqs_event("SurveyQueue")
    [record] = event["Records"]
    response_id = f"email:{json.loads(record['body'])['survey_id']}"
    state = NotifyState(stack.names.refs["NotifyTable"], stack.client("dynamodb"))

    # Given another container claimed it a moment ago: this one sends nothing and lets the message come back
    assert state.claim(response_id, "invitation", timedelta(seconds=CLAIM_SECONDS)) == "claimed"
    assert send_handler.lambda_handler(event, context) == {"batchItemFailures": [{"itemIdentifier":
                                                                                  record["messageId"]}]}  # fmt: skip
    assert ses_mails(stack.url) == []

    # When that container crashed, its claim lapses: the message that comes back is sent, once
    from npsloop import wiring
    from npsloop.surveys.links import SurveyJob

    cfg, ports = wiring.send_survey()
    job = SurveyJob.model_validate_json(record["body"])
    later = datetime.now(UTC) + timedelta(seconds=CLAIM_SECONDS + 1)
    assert send_invitations([("m1", job)], cfg, ports, now=later) == set()
    assert send_invitations([("m1", job)], cfg, ports, now=later) == set()
    assert [m["to"] for m in ses_mails(stack.url)] == [[ADA]]
    assert state.claim(response_id, "invitation", timedelta(seconds=CLAIM_SECONDS)) == "done"
    assert SurveyLedger(stack.names.refs["NotifyTable"], stack.client("dynamodb")).due_reminders(
        later + timedelta(days=400)) == []  # SurveyReminderDays is 0 by default: nothing planned
