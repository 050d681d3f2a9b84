"""No personal data in logs: the whole pipeline runs on the local stack, then every captured log line is scanned.

Webhooks from several tools (JSON and a form, a rejected and an unsigned one) carry addresses and comments; a
detractor is alerted in Slack, everything syncs to the Salesforce stand-in, a promoter gets a thank-you, unsubscribes,
and SES reports a bounce. The stack's log holds what every function, poller and server printed; none of the
addresses or comments may be in it, in any spelling a log could carry them (as is, percent-encoded, JSON-escaped).
"""

import json
import urllib.parse
from datetime import UTC, datetime

import pytest
import requests

from npsloop.stores.optouts import address_hash
from npsloop_local.signing import sign
from tests.mail import ses_mails
from tests.receivers import Receiver

from .conftest import GENERIC_SECRET, TYPEFORM_SECRET, start_local, stop_local
from .test_pipeline import create, nps_record, post_generic, post_typeform

pytestmark = pytest.mark.e2e
TALLY_SECRET = "e2e-tally-secret"
ZAPIER_TOKEN = "e2e-zapier-token"
EMAILS = ["ida.detractor@acme.example", "tom.typeform@acme.example", "zoe.zapier@acme.example",
          "pia.promoter@acme.example", "ray.rejected@acme.example", "uma.unsigned@acme.example",
          "bo.bounce@acme.example", "tia.tally@acme.example"]  # fmt: skip
COMMENTS = ["Der Kundendienst hat mich dreimal vertröstet", "Checkout keeps timing out on mobile",
            "Loved the onboarding call with Marta", "Invoice numbering is confusing",
            "The export button is hidden"]  # fmt: skip


def spellings(text):
    lower = text.lower()
    return {lower, urllib.parse.quote(lower, safe=""), urllib.parse.quote_plus(lower),
            json.dumps(lower)[1:-1]}  # fmt: skip


@pytest.fixture(scope="module")
def slack():
    receiver = Receiver(path="/services/T9/B9/privacy")
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def privacy(tmp_path_factory, slack):
    secrets = {
        "sources": {"generic": {"signing_secret": GENERIC_SECRET}, "typeform": {"signing_secret": TYPEFORM_SECRET},
                    "tally": {"signing_secret": TALLY_SECRET}, "zapier": {"token": ZAPIER_TOKEN}},
        "notify": {"slack_webhook_url": slack.url, "token_key": "e2e-privacy-token-key-0123456789",
                   "email": {"sender": "nps@acme.example"}, "followup": {"company": "Acme"}},
    }  # fmt: skip
    stack = start_local(tmp_path_factory.mktemp("privacy"), secrets=secrets)
    yield stack
    assert stop_local(stack) == 0


def typeform_body(token, score, email, comment):
    return {"form_response": {"token": token, "submitted_at": "2026-08-03T10:00:00Z", "answers": [
        {"type": "number", "number": score, "field": {"id": "q1", "type": "opinion_scale"}},
        {"type": "email", "email": email, "field": {"id": "q2", "type": "email"}},
        {"type": "text", "text": comment, "field": {"id": "q3", "type": "long_text"}}]}}  # fmt: skip


def tally_body(response_id, score, email, comment):
    return {"eventId": f"e-{response_id}", "eventType": "FORM_RESPONSE", "createdAt": "2026-08-03T10:00:00Z",
            "data": {"responseId": response_id, "submissionId": response_id, "createdAt": "2026-08-03T10:00:00Z",
                     "fields": [{"key": "q1", "label": "How likely?", "type": "LINEAR_SCALE", "value": score},
                                {"key": "q2", "label": "Email", "type": "INPUT_EMAIL", "value": email},
                                {"key": "q3", "label": "Why?", "type": "TEXTAREA", "value": comment}]}}  # fmt: skip


def mails(stack):
    return ses_mails(stack.aws)


def opted_out(stack, email):
    item = stack.client("dynamodb").get_item(TableName="npsloop-local-optoutstable",
                                             Key={"address_hash": {"S": address_hash(email)}}).get("Item")  # fmt: skip
    return item and item["reason"]["S"]


def test_no_address_or_comment_in_any_log_line_of_the_whole_pipeline(privacy, slack):
    ida, tom, zoe, pia, ray, uma, bo, tia = EMAILS
    create(privacy, "Contact", {"LastName": "Detractor", "Email": ida})
    assert post_generic(privacy, {"response_id": "p1", "score": 2, "email": ida, "comment": COMMENTS[0],
                                  "name": "Ida", "touchpoint": "support"}, "m_p1").status_code == 202  # fmt: skip
    assert post_typeform(privacy, typeform_body("p2", 4, tom, COMMENTS[1])).status_code == 202
    form = urllib.parse.urlencode({"response_id": "p3", "score": "8", "email": zoe, "comment": COMMENTS[2]})
    answer = requests.post(f"{privacy.api}/webhooks/zapier", data=form, timeout=30,
                           headers={"content-type": "application/x-www-form-urlencoded",
                                    "X-Npsloop-Token": ZAPIER_TOKEN})  # fmt: skip
    assert answer.status_code == 202, answer.text
    body = json.dumps(tally_body("p4", 5, tia, COMMENTS[3])).encode()
    answer = requests.post(f"{privacy.api}/webhooks/tally", data=body, timeout=30,
                           headers={"content-type": "application/json",
                                    **sign("tally", body, {"signing_secret": TALLY_SECRET})})  # fmt: skip
    assert answer.status_code == 202, answer.text
    assert post_generic(privacy, {"response_id": "p5", "score": 10, "email": pia, "name": "Pia"}, "m_p5").ok
    assert post_generic(privacy, {"response_id": "p6", "score": 12, "email": ray, "comment": COMMENTS[4]},
                        "m_p6").status_code == 422  # fmt: skip
    unsigned = requests.post(f"{privacy.api}/webhooks/generic", json={"response_id": "p7", "score": 1, "email": uma},
                             headers={"webhook-id": "x", "webhook-timestamp": "1", "webhook-signature": "v1,AA=="},
                             timeout=30)  # fmt: skip
    assert unsigned.status_code == 401

    for rid in ("generic:p1", "typeform:p2", "zapier:p3", "tally:p4", "generic:p5"):
        nps_record(privacy, rid, 30)
    privacy.wait_for(lambda: any("generic:p1" in json.dumps(p) for p in slack.json()), 30, "the detractor alert")
    mail = privacy.wait_for(lambda: [m for m in mails(privacy) if m["to"] == [pia]], 30,
                            "the thank-you")[0]  # fmt: skip
    link = mail["html"].split('href="')[-1].split('"')[0].replace("&amp;", "&")
    assert requests.get(link, timeout=30).status_code == 200
    assert requests.post(link, timeout=30).status_code == 200
    assert opted_out(privacy, pia) == "unsubscribed"

    sns = privacy.client("sns")
    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"] if "emailfeedbacktopic" in t["TopicArn"])
    bounce = {"notificationType": "Bounce", "mail": {"destination": [bo], "source": "nps@acme.example"},
              "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": bo}],
                         "timestamp": datetime.now(UTC).isoformat()}}  # fmt: skip
    sns.publish(TopicArn=topic, Message=json.dumps(bounce))
    privacy.wait_for(lambda: opted_out(privacy, bo) == "bounce", 30, "the bounce opt-out")

    log = privacy.log.read_text().lower()
    assert "response recorded" in log and "address opted out" in log and "delivery rejected" in log
    found = [(secret, form) for secret in EMAILS + COMMENTS for form in spellings(secret) if form in log]
    assert found == [], f"personal data in the stack log: {found}"
