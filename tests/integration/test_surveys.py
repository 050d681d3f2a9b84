"""Survey handlers in-process on moto (and the Salesforce stand-in): one SOQL for HasOptedOutOfEmail (by contact id,
or by email for a recipient given without one), each invitation mailed once, HEAD and a bad or expired link note
nothing, a held click is recorded through ingest."""

import json
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import requests
from answer_survey import handler as answer_handler
from record_click import handler as record_handler
from send_survey import handler as send_handler
from surveys_api import handler as api_handler

from npsloop import tokens
from npsloop.apikeys import ApiKeyStore, new_key
from npsloop.stores.responses import ResponseStore
from npsloop.stores.surveys import SurveyLedger
from npsloop.surveys import links
from npsloop_local.http_api import http_event
from npsloop_local.template import Route

from .salesforce import stats

KEY = "integration-survey-key"
NOTIFY = {"token_key": KEY, "email": {"sender": "nps@acme.example"}, "public_url": "https://nps.acme.example"}


def set_secret(stack, salesforce=None, surveys=None):
    from npsloop import aws

    notify = NOTIFY | ({"surveys": surveys} if surveys else {})
    value = {"sources": {}, "notify": notify} | ({"salesforce": salesforce} if salesforce else {})
    stack.client("secretsmanager").put_secret_value(SecretId=stack.names.refs["AppSecret"],
                                                    SecretString=json.dumps(value))  # fmt: skip
    stack.client("ses").verify_email_identity(EmailAddress="nps@acme.example")
    aws.clear_cache()


def call(handler, context, method, target, route, body=b"", headers=()):
    event = http_event(method, target, list(headers), body, Route(method, route),
                       {"token": target.split("/r/")[1].split("?")[0]} if "/r/" in target else {},
                       "127.0.0.1")  # fmt: skip
    return handler.lambda_handler(event, context)


def raw_mails(stack):
    return requests.get(f"{stack.url}/moto-api/data.json", timeout=10).json()["ses"].get("RawMessage", [])


def test_send_asks_salesforce_once_and_each_invitation_is_mailed_once(stack, org, context):
    set_secret(stack, {"login_url": org.url, "client_id": "c", "client_secret": "s"})
    opted = org.create("Contact", {"LastName": "Out", "Email": "out@acme.example", "HasOptedOutOfEmail": True})
    fine = org.create("Contact", {"LastName": "In", "Email": "in@acme.example"})
    org.create("Contact", {"LastName": "Quiet", "Email": "quiet@acme.example", "HasOptedOutOfEmail": True})
    key = new_key()
    ApiKeyStore(stack.names.refs["ApiKeysTable"], stack.client("dynamodb")).add(key, "flow")
    before = stats(org)["total"]
    body = json.dumps({"recipients": [{"email": "out@acme.example", "contact_id": opted},
                                      {"email": "in@acme.example", "contact_id": fine, "locale": "de"},
                                      {"email": "free@acme.example"},
                                      {"email": "Quiet@Acme.example"},  # by email alone
                                      {"email": "quiet@acme.example", "contact_id": "x"}]}).encode()  # fmt: skip
    answer = call(api_handler, context, "POST", "/surveys/send", "/surveys/send", body,
                  [("content-type", "application/json"), ("x-api-key", key)])  # fmt: skip
    assert answer["statusCode"] == 200, answer["body"]
    results = json.loads(answer["body"])["results"]
    assert [r["status"] for r in results] == ["opted_out", "queued", "queued", "opted_out", "opted_out"]
    assert "HasOptedOutOfEmail" in results[0]["reason"] and "HasOptedOutOfEmail" in results[3]["reason"]
    assert stats(org)["total"] - before <= 2  # the token call (once per container) and ONE query for all contacts

    event = stack.sqs_event("SurveyQueue")
    assert len(event["Records"]) == 2
    assert send_handler.lambda_handler(event, context) == {"batchItemFailures": []}
    assert send_handler.lambda_handler(event, context) == {"batchItemFailures": []}  # redelivered: not sent again
    mails = raw_mails(stack)
    assert sorted(m["destinations"][0] for m in mails) == ["free@acme.example", "in@acme.example"]
    assert "https://nps.acme.example/r/" in "".join(m["raw_data"] for m in mails)


def test_without_salesforce_the_check_is_skipped_and_a_missing_key_is_401(stack, context):
    set_secret(stack)
    body = json.dumps({"recipients": [{"email": "x@acme.example", "contact_id": "003000000000001AAA"}]}).encode()
    assert call(api_handler, context, "POST", "/surveys/send", "/surveys/send", body)["statusCode"] == 401
    key = new_key()
    ApiKeyStore(stack.names.refs["ApiKeysTable"], stack.client("dynamodb")).add(key, "flow")
    answer = call(api_handler, context, "POST", "/surveys/send", "/surveys/send", body, [("x-api-key", key)])
    assert [r["status"] for r in json.loads(answer["body"])["results"]] == ["queued"]


def test_head_bad_and_expired_links_note_nothing_and_a_held_click_is_recorded(stack, context):
    set_secret(stack)
    invitation = links.Invitation(email="ada@acme.example", locale="de", survey_id="survey-int-1", touchpoint="x")
    token = links.answer_token(invitation, KEY, timedelta(days=1))
    ledger = SurveyLedger(stack.names.refs["NotifyTable"], stack.client("dynamodb"))
    route = "/r/{token}"
    assert call(answer_handler, context, "HEAD", f"/r/{token}?score=5", route)["statusCode"] == 200
    assert call(answer_handler, context, "GET", f"/r/{token}?score=11", route)["statusCode"] == 400
    assert call(answer_handler, context, "GET", f"/r/{token}", route)["statusCode"] == 400
    expired = tokens.sign(invitation.model_dump(exclude_none=True), KEY, purpose=links.SURVEY_PURPOSE,
                          ttl=timedelta(days=1), now=time.time() - 3 * 86400)  # fmt: skip
    page = call(answer_handler, context, "GET", f"/r/{expired}?score=5", route)
    assert page["statusCode"] == 410 and "Umfrage ist beendet" in page["body"]
    posted = call(answer_handler, context, "POST", f"/r/{expired}", route, urlencode({"score": 5}).encode(),
                  [("content-type", "application/x-www-form-urlencoded")])  # fmt: skip
    assert posted["statusCode"] == 410
    assert ledger.clicks("survey-int-1") == [] and stack.sqs_event("ClickQueue")["Records"] == []

    page = call(answer_handler, context, "GET", f"/r/{token}?score=6", route)
    assert page["statusCode"] == 200 and "Ihre Antwort: 6 von 10." in page["body"]
    assert page["headers"]["Content-Security-Policy"].startswith("default-src 'none'")
    assert [c.score for c in ledger.clicks("survey-int-1")] == [6]
    time.sleep(6)  # the held click becomes visible after HOLD_SECONDS
    event = stack.sqs_event("ClickQueue")
    assert len(event["Records"]) == 1
    assert record_handler.lambda_handler(event, context) == {"batchItemFailures": []}
    stored = ResponseStore(stack.names.refs["ResponsesTable"], stack.client("dynamodb")).get("email:survey-int-1")
    assert stored.revision == 1 and stored.response.score == 6 and stored.response.source == "email"
    assert stack.recorded()  # stored like any webhook's answer: the table's stream brings it to compute_score
    assert [d for d in stack.archived("raw/").deliveries if d.record["source"] == "email"]  # and archived first


ORG_ID = "00D5g000004SbcdEAC"
OUTBOUND = (Path(__file__).resolve().parents[1] / "fixtures" / "salesforce" / "outbound_message_account_example.xml")


def outbound_message(*sobjects, org=ORG_ID):
    """Salesforce's example Outbound Message with its org and Notifications replaced: (id, xsi type, sf: fields)."""
    head, rest = OUTBOUND.read_text().split("<Notification>", 1)
    notifications = "".join(
        f'<Notification><Id>{nid}</Id><sObject xmlns:sf="urn:sobject.enterprise.soap.sforce.com" xsi:type="sf:{kind}">'
        f"{fields}</sObject></Notification>" for nid, kind, fields in sobjects)  # fmt: skip
    return (head.replace("ABC90000000gNcmEAE", org) + notifications + rest.split("</Notification>", 1)[1]).encode()


def post_outbound(context, body, touchpoint="support"):
    event = http_event("POST", f"/salesforce/outbound/{touchpoint}", [("content-type", "text/xml; charset=utf-8")],
                       body, Route("POST", "/salesforce/outbound/{touchpoint}"), {"touchpoint": touchpoint},
                       "127.0.0.1")  # fmt: skip
    return api_handler.lambda_handler(event, context)


def test_an_outbound_message_looks_up_the_case_contact_acks_and_queues_once(stack, org, context, caplog):
    set_secret(stack, {"login_url": org.url, "client_id": "c", "client_secret": "s", "organization_id": ORG_ID})
    contact = org.create("Contact", {"LastName": "Case", "FirstName": "Cleo", "Email": "cleo@acme.example"})
    account = org.create("Account", {"Name": "No Mail Ltd"})
    before = stats(org)["total"]
    body = outbound_message(
        ("04l5g000000CaseAAA", "Case", f"<sf:Id>5005g000001AbcdAAA</sf:Id><sf:ContactId>{contact}</sf:ContactId>"
                                       "<sf:Status>Closed</sf:Status>"),
        ("04l5g000000AcctAAA", "Account", f"<sf:Id>{account}</sf:Id><sf:Name>No Mail Ltd</sf:Name>"),
    )  # fmt: skip
    answer = post_outbound(context, body)
    assert answer["statusCode"] == 200 and answer["headers"]["Content-Type"].startswith("text/xml")
    assert answer["body"] == (OUTBOUND.parent / "outbound_message_ack_response.xml").read_text()
    assert stats(org)["total"] - before <= 3  # token (once per container), the Contact lookup, the opt-out check

    [record] = stack.sqs_event("SurveyQueue")["Records"]
    queued = links.Invitation.model_validate_json(record["body"])
    assert (queued.email, queued.name, queued.touchpoint) == ("cleo@acme.example", "Cleo", "support")
    assert queued.contact_id == contact[:15] and queued.survey_id == "sfom-04l5g000000CaseAAA"
    assert queued.context == {"salesforce_object": "Case", "salesforce_record_id": "5005g000001AbcdAAA",
                              "salesforce_notification_id": "04l5g000000CaseAAA"}  # fmt: skip
    no_recipient = [r for r in caplog.records if r.getMessage() == "outbound notification has no recipient"]
    assert [r.notification_id for r in no_recipient] == ["04l5g000000AcctAAA"]
    assert "cleo@acme.example" not in caplog.text

    assert post_outbound(context, body)["statusCode"] == 200  # Salesforce redelivers: acked, throttled
    assert stack.sqs_event("SurveyQueue")["Records"] == []
    assert send_handler.lambda_handler({"Records": [record]}, context) == {"batchItemFailures": []}
    assert [m["destinations"][0] for m in raw_mails(stack)] == ["cleo@acme.example"]


def test_without_a_cooldown_a_redelivered_notification_is_still_mailed_once(stack, org, context):
    # the org is asked whether the ContactEmail opted out (a Contact with that email and HasOptedOutOfEmail)
    set_secret(stack, {"login_url": org.url, "client_id": "c", "client_secret": "s",
                       "organization_id": ORG_ID[:15]}, surveys={"cooldown_days": 0})  # fmt: skip
    body = outbound_message(("04l5g000000OppAAAA", "Opportunity",
                             "<sf:Id>0065g000001AbcdAAA</sf:Id><sf:ContactEmail>opp@acme.example</sf:ContactEmail>"))
    assert post_outbound(context, body, "won")["statusCode"] == 200
    assert post_outbound(context, body, "won")["statusCode"] == 200
    event = stack.sqs_event("SurveyQueue")
    assert len(event["Records"]) == 2  # no cooldown: both queued, with the Notification's survey id
    assert send_handler.lambda_handler(event, context) == {"batchItemFailures": []}
    assert [m["destinations"][0] for m in raw_mails(stack)] == ["opp@acme.example"]


def test_a_foreign_org_or_a_malformed_message_gets_a_soap_fault_and_queues_nothing(stack, context):
    set_secret(stack, {"login_url": "http://127.0.0.1:9", "client_id": "c", "client_secret": "s",
                       "organization_id": ORG_ID})  # fmt: skip
    body = outbound_message(("04l5g000000OppAAAA", "Contact",
                             "<sf:Id>0035g000001AbcdAAA</sf:Id><sf:Email>x@acme.example</sf:Email>"),
                            org="00D000000000001AAA")  # fmt: skip
    foreign = post_outbound(context, body)
    assert foreign["statusCode"] == 401 and "<faultstring>the OrganizationId is not the org" in foreign["body"]
    bad = post_outbound(context, b"<soapenv:Envelope")
    assert bad["statusCode"] == 400 and "soapenv:Client" in bad["body"] and "not well-formed" in bad["body"]
    assert stack.sqs_event("SurveyQueue")["Records"] == []
    case = outbound_message(("04l5g000000CaseAAA", "Case",
                             "<sf:Id>5005g000001AbcdAAA</sf:Id><sf:ContactId>0035g000001AbcdAAA</sf:ContactId>"))
    down = post_outbound(context, case)  # the org (127.0.0.1:9) cannot be asked for the Contact: no Ack, retried
    assert down["statusCode"] == 503 and "soapenv:Server" in down["body"]
    assert stack.sqs_event("SurveyQueue")["Records"] == []
    set_secret(stack)  # no org configured: refused, and the fault says which setting is missing
    refused = post_outbound(context, outbound_message(("04l5g000000OppAAAA", "Contact", "<sf:Id>x</sf:Id>")))
    assert refused["statusCode"] == 401 and "salesforce.organization_id" in refused["body"]
