"""Closing the loop on the local stack: Zapier REST hooks (signed, retried, 410), Slack alerts, the thank-you email."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from standardwebhooks import Webhook

from npsloop import tokens
from npsloop.stores.optouts import address_hash
from tests.mail import ses_mails
from tests.receivers import Receiver

from .conftest import API_KEY, GENERIC_SECRET, NOTHING_MORE_S, TYPEFORM_SECRET, start_local, stop_local
from .test_pipeline import post_generic

pytestmark = pytest.mark.e2e
TOKEN_KEY = "e2e-token-key-0123456789abcdef"
SENDER = "nps@acme.example"


@pytest.fixture(scope="module")
def slack_loop():
    receiver = Receiver(path="/services/T1/B1/loop")
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def loop(tmp_path_factory, slack_loop):
    secrets = {
        "sources": {"generic": {"signing_secret": GENERIC_SECRET}, "typeform": {"signing_secret": TYPEFORM_SECRET}},
        "notify": {
            "slack_webhook_url": slack_loop.url,
            "token_key": TOKEN_KEY,
            "email": {"sender": SENDER},
            "followup": {"company": "Acme", "cooldown_days": 90},
        },
        "hooks": {"retry_base_seconds": 1},
    }
    stack = start_local(
        tmp_path_factory.mktemp("loop"), "--api-key", API_KEY, "--allow-loopback-targets", secrets=secrets
    )
    yield stack
    assert stop_local(stack) == 0


def subscribe(stack, url, event, key=API_KEY):
    return requests.post(
        f"{stack.api}/hooks",
        json={"target_url": url, "event": event},
        headers={"X-Api-Key": key} if key else {},
        timeout=30,
    )


def mails(stack):
    return ses_mails(stack.aws)


def test_without_the_flag_loopback_private_and_metadata_targets_are_422_and_no_key_is_401(local):
    for url in ("http://127.0.0.1:9/hook", "https://10.0.0.1/hook", "https://169.254.169.254/latest/meta-data"):
        answer = subscribe(local, url, "response.detractor")
        assert answer.status_code == 422 and answer.json()["field"] == "target_url", (url, answer.text)
    for method, path in (("POST", "/hooks"), ("DELETE", "/hooks/sub_x"), ("GET", "/me"), ("GET", "/responses")):
        answer = requests.request(method, f"{local.api}{path}", json={}, timeout=30)
        assert answer.status_code == 401 and "X-Api-Key" in answer.json()["error"], (method, path)
    assert requests.get(f"{local.api}/me", headers={"X-Api-Key": API_KEY}, timeout=30).status_code == 200


def test_the_metadata_address_is_refused_even_with_the_loopback_flag(loop):
    for url in ("https://169.254.169.254/latest", "https://10.0.0.1/x", "http://localhost:80/x"):
        assert subscribe(loop, url, "response.created").status_code == 422, url


def test_a_detractor_subscription_gets_one_signed_delivery_per_detractor_until_it_answers_410(loop):
    receiver = Receiver()
    try:
        answer = subscribe(loop, receiver.url, "response.detractor")
        assert answer.status_code == 201, answer.text
        sub = answer.json()
        for i, score in enumerate((2, 9, 5, 7)):
            assert post_generic(loop, {"response_id": f"hook-{i}", "score": score}, f"msg_hook_{i}").status_code == 202
        loop.wait_for(lambda: len(receiver.posts) >= 2, 30, "two deliveries")
        time.sleep(NOTHING_MORE_S)  # room for a wrong third one
        assert len(receiver.posts) == 2
        for post in receiver.posts:
            payload = Webhook(sub["secret"]).verify(post["raw"], post["headers"])
            assert payload["event"] == "response.detractor" and payload["category"] == "detractor"
        assert sorted(json.loads(p["raw"])["id"] for p in receiver.posts) == ["generic:hook-0", "generic:hook-2"]

        receiver.statuses = [410]
        post_generic(loop, {"response_id": "hook-gone", "score": 1}, "msg_hook_gone")
        loop.wait_for(lambda: len(receiver.posts) == 3, 30, "the delivery answered 410")
        loop.wait_for(
            lambda: not loop.client("dynamodb").scan(TableName="npsloop-local-hookstable")["Items"],
            10,
            "the subscription to be deleted",
        )
        post_generic(loop, {"response_id": "hook-after", "score": 0}, "msg_hook_after")
        time.sleep(NOTHING_MORE_S)
        assert len(receiver.posts) == 3
    finally:
        receiver.stop()


def test_a_catch_hook_added_with_the_cli_gets_the_delivery_once_after_three_503s(loop):
    receiver = Receiver(statuses=[503, 503, 503], path="/hooks/catch/1/abc/")
    npsloop = Path(sys.executable).with_name("npsloop")
    try:
        added = subprocess.run([str(npsloop), "hooks", "add", "--url", receiver.url, "--event", "response.created",
                                "--allow-loopback-targets", "--aws-url", loop.aws],
                               capture_output=True, text=True, timeout=60)  # fmt: skip
        assert added.returncode == 0, added.stderr
        secret = added.stdout.split("signing secret (Standard Webhooks): ")[1].strip()
        time.sleep(31)  # notify caches the subscription list for up to 30 s
        post_generic(loop, {"response_id": "retry-1", "score": 8}, "msg_retry_1")
        loop.wait_for(lambda: [p["status"] for p in receiver.posts] == [503, 503, 503, 200], 60, "four attempts")
        time.sleep(3)
        assert len(receiver.posts) == 4
        assert len({p["headers"]["webhook-id"] for p in receiver.posts}) == 1
        gaps = [b["at"] - a["at"] for a, b in zip(receiver.posts, receiver.posts[1:], strict=False)]
        assert gaps[0] >= 0.9 and gaps[2] > gaps[0], gaps  # exponential: about 1 s, 2 s, 4 s
        last = receiver.posts[-1]
        assert Webhook(secret).verify(last["raw"], last["headers"])["id"] == "generic:retry-1"
        listed = subprocess.run([str(npsloop), "hooks", "list", "--aws-url", loop.aws], capture_output=True,
                                text=True, timeout=60)  # fmt: skip
        assert receiver.url in listed.stdout
    finally:
        receiver.stop()


def test_detractor_alert_in_slack_and_a_german_thank_you_once_with_a_working_unsubscribe(loop, slack_loop):
    post_generic(loop, {"response_id": "slack-1", "score": 1, "comment": "Kaputt", "touchpoint": "support"}, "m_s1")
    post = loop.wait_for(lambda: [p for p in slack_loop.json() if "generic:slack-1" in json.dumps(p)], 30, "the alert")
    blocks = post[0]["blocks"]
    assert blocks[0]["type"] == "header" and "1/10" in blocks[0]["text"]["text"] and "Kaputt" in json.dumps(blocks)
    assert {"Touchpoint", "Source"} <= {f["text"].split("*")[1] for f in blocks[1]["fields"]}

    german = {"response_id": "de-1", "score": 10, "email": "jonas@acme.example", "name": "Jonas", "locale": "de"}
    post_generic(loop, german, "m_de1")
    mail = loop.wait_for(
        lambda: [m for m in mails(loop) if m["to"] == [german["email"]]],
        20,
        "the thank-you email",
    )[0]
    assert mail["subject"] == "Vielen Dank für Ihr Feedback" and "Hallo Jonas" in mail["body"]
    post_generic(loop, {**german, "response_id": "de-2", "score": 9}, "m_de2")

    link = mail["html"].split('href="')[-1].split('"')[0].replace("&amp;", "&")
    assert link.startswith(f"{loop.api}/unsubscribe/") and mail["headers"]["List-Unsubscribe"] == f"<{link}>"
    assert mail["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    page = requests.get(link, timeout=30)
    assert page.status_code == 200 and "Abmelden" in page.text
    assert requests.post(link, data="List-Unsubscribe=One-Click", timeout=30).status_code == 200  # RFC 8058
    item = loop.client("dynamodb").get_item(
        TableName="npsloop-local-optoutstable", Key={"address_hash": {"S": address_hash(german["email"])}}
    )
    assert item["Item"]["reason"]["S"] == "unsubscribed"

    # someone who unsubscribed through a link signed with the stack's key gets no thank-you
    token = tokens.sign(
        {"email": "mia@acme.example"}, TOKEN_KEY, purpose="unsubscribe", ttl=__import__("datetime").timedelta(days=1)
    )
    assert requests.post(f"{loop.api}/unsubscribe?token={token}", timeout=30).status_code == 200
    post_generic(loop, {"response_id": "mia-1", "score": 10, "email": "mia@acme.example"}, "m_mia")
    post_generic(loop, {"response_id": "en-1", "score": 10, "email": "eve@acme.example"}, "m_en1")
    loop.wait_for(
        lambda: any(m["to"] == ["eve@acme.example"] for m in mails(loop)),
        20,
        "the English thank-you",
    )
    time.sleep(2)
    recipients = [m["to"][0] for m in mails(loop)]
    assert recipients.count("jonas@acme.example") == 1 and "mia@acme.example" not in recipients
    assert requests.get(f"{loop.api}/unsubscribe?token=forged.token", timeout=30).status_code == 400
    log = loop.log.read_text()
    for personal in ("jonas@acme.example", "mia@acme.example", "Kaputt"):
        assert personal not in log


def test_zapier_sample_lists_recent_detractors_newest_first(loop):
    answer = requests.get(
        f"{loop.api}/responses", params={"event": "response.detractor"}, headers={"X-Api-Key": API_KEY}, timeout=30
    )
    ids = [item["id"] for item in answer.json()]
    assert answer.status_code == 200 and ids and all(i.startswith("generic:") for i in ids)
    assert len(ids) == len(set(ids))
