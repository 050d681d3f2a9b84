"""Survey invitations on the local stack: POST /surveys/send → moto's SES → one-click answers → the Salesforce
stand-in; a scanner's burst records nothing; a changed token is a 403; screenshots of the email and the thank-you
page in German and English from headless Chromium (tests/output/); with SurveyReminderDays=3, the hourly schedule
fired "three days later" reminds only who did not answer, once."""

import email
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from email.policy import default as default_policy
from pathlib import Path

import pytest
import requests

from npsloop import tokens
from npsloop.stores.optouts import address_hash
from npsloop.stores.surveys import SurveyLedger
from npsloop.surveys.answer import BURST_SECONDS, HOLD_SECONDS
from tests.mail import ses_mails

from .conftest import API_KEY, GENERIC_SECRET, start_local, stop_local
from .test_dashboard import OUTPUT, browser  # noqa: F401 (the headless Chromium fixture)

pytestmark = pytest.mark.e2e
TOKEN_KEY = "e2e-survey-token-key-0123456789"
SENDER = "Acme <nps@acme.example>"
ADA, JONAS, OLD = "ada@acme.example", "jonas@acme.example", "old@acme.example"


@pytest.fixture(scope="module")
def surveys(tmp_path_factory):
    secrets = {
        "sources": {"generic": {"signing_secret": GENERIC_SECRET}},
        "notify": {"token_key": TOKEN_KEY, "email": {"sender": SENDER}, "surveys": {"company": "Acme"},
                   "followup": {"enabled": False}},
    }  # fmt: skip
    stack = start_local(tmp_path_factory.mktemp("surveys"), "--api-key", API_KEY, "--parameter", "SurveyReminderDays=3",
                        secrets=secrets)  # fmt: skip
    yield stack
    assert stop_local(stack) == 0


def invitations(stack):
    """The raw messages in moto's SES, parsed, by recipient."""
    raw = requests.get(f"{stack.aws}/moto-api/data.json", timeout=10).json()["ses"].get("RawMessage", [])
    parsed = [email.message_from_string(m["raw_data"], policy=default_policy) for m in raw]
    return {m["To"]: m for m in parsed}


def answer_links(message):
    html = message.get_body(("html",)).get_content()
    return [link.replace("&amp;", "&") for link in re.findall(r'href="([^"]+/r/[^"]+)"', html)]


def survey_id(link):
    return tokens.peek(link.split("/r/")[1].split("?")[0])["survey_id"]


def record(stack, response_id):
    return next((r for r in stack.records("NPS_Response__c") if r.get("Response_Id__c") == response_id), None)


def stored(stack, response_id):
    item = stack.client("dynamodb").get_item(TableName="npsloop-local-responsestable",
                                             Key={"response_id": {"S": response_id}}).get("Item")  # fmt: skip
    return item and int(item["revision"]["N"])


def test_send_three_one_throttled_scanner_burst_one_click_change_comment_and_a_forged_token(surveys, browser):  # noqa: F811
    ledger = SurveyLedger("npsloop-local-notifytable", surveys.client("dynamodb"))
    assert ledger.claim(OLD, "support", "earlier-survey-1", timedelta(days=90), datetime.now(UTC) - timedelta(days=10))

    recipients = [
        {"email": ADA, "name": "Ada", "touchpoint": "support", "locale": "en-GB", "context": {"case": "500A"}},
        {"email": JONAS, "name": "Jonas", "touchpoint": "support", "locale": "de-DE"},
        {"email": OLD.upper(), "touchpoint": "support"},
    ]
    answer = requests.post(f"{surveys.api}/surveys/send", json={"recipients": recipients},
                           headers={"X-Api-Key": API_KEY}, timeout=30)  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert [r["status"] for r in answer.json()["results"]] == ["queued", "queued", "throttled"]

    sent = surveys.wait_for(lambda: (m := invitations(surveys)) and len(m) >= 2 and m, 30, "two invitations")
    time.sleep(1)
    assert sorted(invitations(surveys)) == [ADA, JONAS]  # the throttled one got nothing
    ada, jonas = sent[ADA], sent[JONAS]
    assert ada["Subject"] == "How likely are you to recommend Acme?"
    assert jonas["Subject"] == "Wie wahrscheinlich empfehlen Sie Acme weiter?"
    for message in (ada, jonas):
        links = answer_links(message)
        assert [int(link.rsplit("=", 1)[1]) for link in links] == list(range(11))
        assert all(link.startswith(f"{surveys.api}/r/") for link in links) and len({survey_id(x) for x in links}) == 1
        assert message["List-Unsubscribe"].startswith(f"<{surveys.api}/unsubscribe/")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        text = message.get_body(("plain",)).get_content()
        assert all(link in text for link in links) and message["List-Unsubscribe"][1:-1] in text
        assert "<script" not in message.get_body(("html",)).get_content().lower()
    links = answer_links(ada)
    response_id = f"email:{survey_id(links[0])}"

    # a mail scanner: every link of the message within two seconds (and a HEAD), nothing is recorded
    sent_at, statuses = [], []

    def scan(link):
        sent_at.append(time.monotonic())
        statuses.append(requests.get(link, timeout=30).status_code)

    threads = [threading.Thread(target=scan, args=(link,)) for link in links]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert requests.head(links[4], timeout=30).status_code == 200
    assert statuses == [200] * 11 and max(sent_at) - min(sent_at) < 2  # eleven GETs within two seconds
    time.sleep(BURST_SECONDS + 1)  # past the hold, and far enough from the burst for a person's click
    assert stored(surveys, response_id) is None and record(surveys, response_id) is None

    # a person: one click records the score; another later changes it (same response, counted once)
    page = requests.get(links[3], timeout=30)
    assert page.status_code == 200 and "Your answer: 3 out of 10." in page.text and 'name="comment"' in page.text
    assert surveys.wait_for(lambda: (r := record(surveys, response_id)) and r["Score__c"] == 3 and r, 20 + HOLD_SECONDS,
                            "the click in Salesforce")["Email__c"] == ADA  # fmt: skip
    assert requests.get(links[8], timeout=30).status_code == 200
    surveys.wait_for(lambda: (r := record(surveys, response_id)) and r["Score__c"] == 8, 30, "the changed answer")
    assert stored(surveys, response_id) == 2
    nps = requests.get(f"{surveys.api}/nps", params={"segment": "source", "value": "email", "period": "day"},
                       headers={"X-Api-Key": API_KEY}, timeout=30).json()["periods"]  # fmt: skip
    assert (nps[-1]["responses"], nps[-1]["passives"], nps[-1]["detractors"]) == (1, 1, 0)

    # the comment form adds the comment to the same response
    token = links[8].split("/r/")[1].split("?")[0]
    saved = requests.post(f"{surveys.api}/r/{token}", data={"score": "8", "comment": "Quick support, thanks"},
                          timeout=30)  # fmt: skip
    assert saved.status_code == 200 and "Thank you for your comment" in saved.text
    surveys.wait_for(lambda: (record(surveys, response_id) or {}).get("Comment__c") == "Quick support, thanks", 20,
                     "the comment in Salesforce")  # fmt: skip

    # one character changed: 403, nothing noted or recorded
    middle = len(token) // 3
    forged = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    clicks_before = len(ledger.clicks(survey_id(links[0])))
    refused = requests.get(f"{surveys.api}/r/{forged}?score=0", timeout=30)
    assert refused.status_code == 403 and "not valid" in refused.text
    posted = requests.post(f"{surveys.api}/r/{forged}", data={"score": "0", "comment": "x"}, timeout=30)
    assert posted.status_code == 403
    time.sleep(HOLD_SECONDS + 2)
    assert len(ledger.clicks(survey_id(links[0]))) == clicks_before and stored(surveys, response_id) == 3
    assert record(surveys, response_id)["Score__c"] == 8

    # screenshots: the two emails, and the thank-you page in both languages (a person's click in Chromium)
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    OUTPUT.mkdir(exist_ok=True)
    for lang, message in (("en", ada), ("de", jonas)):
        path = OUTPUT / f"survey-email-{lang}.html"
        path.write_text(message.get_body(("html",)).get_content())
        browser.get(path.as_uri())
        assert len(browser.find_elements(By.CSS_SELECTOR, "a[href*='/r/']")) == 11
        assert browser.save_screenshot(str(OUTPUT / f"survey-email-{lang}.png"))
    browser.get(answer_links(jonas)[10])
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "de"
    assert "Ihre Antwort: 10 von 10." in browser.find_element(By.TAG_NAME, "body").text
    assert browser.find_element(By.CSS_SELECTOR, "label[for=comment]").text
    browser.save_screenshot(str(OUTPUT / "survey-thanks-de.png"))
    browser.find_element(By.ID, "comment").send_keys("Sehr freundlich")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 30, ignored_exceptions=(StaleElementReferenceException,)).until(  # the next page loads
        lambda b: "Vielen Dank für Ihren Kommentar" in b.find_element(By.TAG_NAME, "h1").text
    )
    jonas_id = f"email:{survey_id(answer_links(jonas)[0])}"
    surveys.wait_for(lambda: (r := record(surveys, jonas_id)) and (r["Score__c"], r.get("Comment__c")) == (
        10, "Sehr freundlich"), 30, "the German answer with its comment")  # fmt: skip
    browser.get(links[9])
    assert "Your answer: 9 out of 10." in browser.find_element(By.TAG_NAME, "body").text
    browser.save_screenshot(str(OUTPUT / "survey-thanks-en.png"))
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []

    log = surveys.log.read_text()
    for personal in (ADA, JONAS, "Quick support", "Sehr freundlich"):
        assert personal not in log


def test_send_refuses_bad_requests_with_4xx_and_reports_invalid_and_opted_out_recipients(surveys):
    url = f"{surveys.api}/surveys/send"
    assert requests.post(url, json={"recipients": [{"email": "a@b.example"}]}, timeout=30).status_code == 401
    key = {"X-Api-Key": API_KEY}
    for body, field in (({"recipients": []}, "recipients"), ({"recipients": [{}] * 501}, "recipients")):
        answer = requests.post(url, json=body, headers=key, timeout=30)
        assert answer.status_code == 422 and answer.json()["field"] == field
    malformed = requests.post(url, data="{", headers={**key, "content-type": "application/json"}, timeout=30)
    assert malformed.status_code == 400
    unsubscribe = tokens.sign({"email": "gone@acme.example"}, TOKEN_KEY, purpose="unsubscribe", ttl=timedelta(days=1))
    assert requests.post(f"{surveys.api}/unsubscribe?token={unsubscribe}", timeout=30).status_code == 200
    answer = requests.post(url, headers=key, timeout=30, json={"recipients": [
        {"email": "not-an-address"}, {"email": "Gone@acme.example"}, {"email": "x@acme.example", "score": 3},
        {"email": "new@acme.example", "touchpoint": "onboarding"},
        {"email": "NEW@acme.example", "touchpoint": "onboarding"},
    ]})  # fmt: skip
    results = answer.json()["results"]
    assert [r["status"] for r in results] == ["invalid", "opted_out", "invalid", "queued", "throttled"]
    assert "email" in results[0]["reason"] and "score" in results[2]["reason"]


def test_a_salesforce_outbound_message_gets_the_ack_and_its_survey_goes_out_once(surveys):
    """Salesforce's example message, its Account made a Person Account with an email, from the local stack's default
    org (secrets.default.json); then the survey's one-click List-Unsubscribe opts the person out."""
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "salesforce"
    body = (fixtures / "outbound_message_account_example.xml").read_text()
    body = body.replace("ABC90000000gNcmEAE", "00D000000000001AAA").replace(
        "<sf:Name>", "<sf:PersonEmail>pia@acme.example</sf:PersonEmail><sf:Name>")
    url, xml = f"{surveys.api}/salesforce/outbound/support", {"content-type": "text/xml; charset=utf-8"}
    answer = requests.post(url, data=body.encode(), headers=xml, timeout=30)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/xml")
    assert answer.content == (fixtures / "outbound_message_ack_response.xml").read_bytes()
    message = surveys.wait_for(lambda: invitations(surveys).get("pia@acme.example"), 30, "the invitation")
    assert len(answer_links(message)) == 11 and message["Subject"] == "How likely are you to recommend Acme?"
    assert survey_id(answer_links(message)[0]) == "sfom-04l9000001olR84AAE"

    redelivered = requests.post(url, data=body.encode(), headers=xml, timeout=30)  # Salesforce retries
    assert redelivered.status_code == 200 and redelivered.content == answer.content
    foreign = requests.post(url, data=body.replace("00D000000000001AAA", "00D000000000002AAA").encode(),
                            headers=xml, timeout=30)  # fmt: skip
    assert foreign.status_code == 401 and "OrganizationId" in foreign.text
    assert requests.post(url, data=b"<soapenv:Envelope", headers=xml, timeout=30).status_code == 400
    time.sleep(2)
    assert [m["to"] for m in ses_mails(surveys.aws)].count(["pia@acme.example"]) == 1

    unsubscribe = message["List-Unsubscribe"][1:-1]
    assert unsubscribe.startswith(f"{surveys.api}/unsubscribe/")
    assert requests.post(unsubscribe, data="List-Unsubscribe=One-Click", timeout=30).status_code == 200  # RFC 8058
    item = surveys.client("dynamodb").get_item(TableName="npsloop-local-optoutstable",
                                               Key={"address_hash": {"S": address_hash("pia@acme.example")}})
    assert item["Item"]["reason"]["S"] == "unsubscribed"


def test_three_days_later_one_reminder_goes_to_who_did_not_answer_and_its_link_records(surveys):
    rita, sam = "rita@acme.example", "sam@acme.example"
    recipients = [{"email": rita, "name": "Rita", "touchpoint": "renewal", "locale": "de-AT"},
                  {"email": sam, "touchpoint": "renewal", "locale": "en"}]  # fmt: skip
    answer = requests.post(f"{surveys.api}/surveys/send", json={"recipients": recipients},
                           headers={"X-Api-Key": API_KEY}, timeout=30)  # fmt: skip
    assert [r["status"] for r in answer.json()["results"]] == ["queued", "queued"]
    sent = surveys.wait_for(lambda: (m := invitations(surveys)) and rita in m and sam in m and m, 30, "two invitations")
    sent_at = datetime.now(UTC)

    # Sam answers with one click (held, then recorded); Rita does not
    sam_links = answer_links(sent[sam])
    assert requests.get(sam_links[7], timeout=30).status_code == 200
    sam_id = f"email:{survey_id(sam_links[0])}"
    surveys.wait_for(lambda: stored(surveys, sam_id), 20 + HOLD_SECONDS, "Sam's answer stored")

    # the schedule fired as of one hour short of three days: nothing; as of three days later: Rita's reminder only
    fire = f"{surveys.api}/__local/schedules/RemindSurveysFunction"
    early = requests.post(fire, json={"time": (sent_at + timedelta(days=3, hours=-1)).isoformat()}, timeout=60)
    assert early.status_code == 200 and early.json()["result"]["queued"] == 0, early.text
    due = requests.post(fire, json={"time": (sent_at + timedelta(days=3, minutes=5)).isoformat()}, timeout=60)
    assert due.status_code == 200 and due.json()["result"]["answered"] >= 1, due.text

    def reminders():
        return [m for m in ses_mails(surveys.aws) if m["subject"].startswith(("Reminder", "Erinnerung"))
                and m["to"][0] in (rita, sam)]  # fmt: skip

    surveys.wait_for(reminders, 30, "Rita's reminder")
    again = requests.post(fire, json={"time": (sent_at + timedelta(days=3, hours=1)).isoformat()}, timeout=60)
    assert again.status_code == 200 and again.json()["result"]["due"] == 0  # each plan is used once
    time.sleep(2)
    [reminder] = reminders()
    assert reminder["to"] == [rita]
    assert reminder["subject"] == "Erinnerung: Wie wahrscheinlich empfehlen Sie Acme weiter?"
    assert "Vor ein paar Tagen haben wir Sie um Ihre Meinung gebeten." in reminder["body"]
    assert reminder["headers"]["List-Unsubscribe"].startswith(f"<{surveys.api}/unsubscribe/")
    links = [link.replace("&amp;", "&") for link in re.findall(r'href="([^"]+/r/[^"]+)"', reminder["html"])]
    assert len(links) == 11 and survey_id(links[0]) == survey_id(answer_links(sent[rita])[0])

    # the reminder's link records Rita's answer like the invitation's would
    assert requests.get(links[4], timeout=30).status_code == 200
    rita_id = f"email:{survey_id(links[0])}"
    assert surveys.wait_for(lambda: (r := record(surveys, rita_id)) and r["Score__c"] == 4 and r, 20 + HOLD_SECONDS,
                            "the reminder's answer in Salesforce")["Email__c"] == rita  # fmt: skip

    # the local-only control refuses what it cannot fire
    assert requests.post(fire, json={"time": "three days later"}, timeout=30).status_code == 400
    assert requests.post(f"{surveys.api}/__local/schedules/SendSurveyFunction", json={}, timeout=30).status_code == 404
    assert rita not in surveys.log.read_text() and sam not in surveys.log.read_text()
