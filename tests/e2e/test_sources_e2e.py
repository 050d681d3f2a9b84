"""Over real HTTP against `npsloop local`: schemathesis finds no server error in the OpenAPI document's operations;
a SurveyMonkey delivery outlives an API outage and becomes a Salesforce record; `npsloop import` shows progress and
its history raises no alert and no Task."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from npsloop_local.signing import sign
from npsloop_local.survey_apis import SurveyApis, nps_response, nps_survey

from .conftest import GENERIC_SECRET, ROOT, TYPEFORM_SECRET, start_local, stop_local

pytestmark = pytest.mark.e2e
SM = {"api_key": "e2e-sm", "api_secret": "e2e-sm-secret", "access_token": "e2e-sm-token"}


@pytest.fixture(scope="module")
def apis():
    standin = SurveyApis(surveymonkey_token=SM["access_token"])
    standin.start()
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, apis, slack):
    secrets = {
        "sources": {"generic": {"signing_secret": GENERIC_SECRET}, "typeform": {"signing_secret": TYPEFORM_SECRET},
                    "surveymonkey": {**SM, "base_url": apis.url}},
        "notify": {"slack_webhook_url": slack.url},
    }  # fmt: skip
    local = start_local(tmp_path_factory.mktemp("sources"), secrets=secrets)
    yield local
    assert stop_local(local) == 0


def test_schemathesis_finds_no_server_error(stack, tmp_path):
    command = [str(Path(sys.executable).with_name("schemathesis")), "run", str(ROOT / "openapi.json"),
               "--url", stack.api, "--checks", "not_a_server_error", "--max-examples", "25", "--workers", "1",
               "--phases", "examples,coverage,fuzzing", "--seed", "1", "--generation-database", "none",
               "--request-timeout", "30", "--no-color"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=tmp_path)  # its cache stays out
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "postWebhook" in done.stdout or "POST /webhooks/{source}" in done.stdout


def test_surveymonkey_delivery_outlives_an_api_outage_and_reaches_salesforce(stack, apis):
    apis.add_surveymonkey("777", nps_survey("777"), {"9001": nps_response("9001", 10, "sm@example.com", "Great")})
    assert requests.head(f"{stack.api}/webhooks/surveymonkey", timeout=10).status_code == 200
    apis.fail(503, count=3)  # the first attempts of fetch_response meet an outage
    body = json.dumps({"event_type": "response_completed", "object_type": "response", "object_id": "9001",
                       "event_id": "e1", "resources": {"survey_id": "777"}}).encode()  # fmt: skip
    headers = {"Content-Type": "application/json", **sign("surveymonkey", body, SM)}
    answer = requests.post(f"{stack.api}/webhooks/surveymonkey", data=body, headers=headers, timeout=30)
    assert (answer.status_code, answer.json()) == (202, {"queued": "surveymonkey:9001"})

    def record():
        return next((r for r in stack.records("NPS_Response__c") if r.get("Response_Id__c") == "surveymonkey:9001"),
                    None)  # fmt: skip

    found = stack.wait_for(record, timeout=90, what="the SurveyMonkey response in Salesforce")
    assert found["Score__c"] == 10 and apis.calls["surveymonkey_survey"] >= 3


def test_import_shows_progress_and_history_raises_no_alert_or_task(stack, slack, tmp_path):
    from tests.integration.test_history import delighted_csv

    path = tmp_path / "delighted.csv"
    scores = delighted_csv(path, 200, seed=3)
    posts_before = len(slack.posts)
    command = [str(Path(sys.executable).with_name("npsloop")), "import", str(path), "--source", "delighted",
               "--aws-url", stack.aws]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "200 recorded" in done.stdout and "importing delighted.csv" in done.stderr and "200/200" in done.stderr

    def synced():
        ids = {r.get("Response_Id__c") for r in stack.records("NPS_Response__c")}
        return sum(f"delighted:d{n}" in ids for n in range(200)) == 200

    stack.wait_for(synced, timeout=120, what="200 imported responses in Salesforce")
    assert sum(s < 7 for s in scores) > 20  # detractors among them, yet:
    assert len(slack.posts) == posts_before
    tasks = stack.records("Task")
    assert not [t for t in tasks if "delighted:" in json.dumps(t)]
