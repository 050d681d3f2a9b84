"""Every source through ingest_webhook in-process on moto: vendors' examples, the handshake, ids-only tools queued and
fetched (through an API outage), content types, tokens and the field mapping."""

import json
from urllib.parse import urlencode

import pytest
from fetch_response import handler as fetch_handler
from ingest_webhook import handler as ingest

from npsloop_local.http_api import http_event
from npsloop_local.signing import qualtrics_form, sign
from npsloop_local.survey_apis import SurveyApis, nps_response, nps_survey
from npsloop_local.template import Route

from .conftest import SOURCE_SECRETS, webhook_event

JOTFORM_TYPE = "multipart/form-data; boundary=------------------------J1JNT4vbVO4FCC1qLG4HSv"
FORM = "application/x-www-form-urlencoded"


def post(context, source, body, headers=None, content_type="application/json", query=""):
    headers = {**sign(source, body, SOURCE_SECRETS.get(source, {})), **(headers or {})}
    event = webhook_event(source, body, headers, content_type=content_type)
    if query:
        event["rawQueryString"] = query
        event["queryStringParameters"] = dict(p.split("=", 1) for p in query.split("&"))
    result = ingest.lambda_handler(event, context)
    return result["statusCode"], json.loads(result["body"])


@pytest.mark.parametrize(
    ("source", "fixture", "content_type"),
    [
        ("formbricks", "formbricks/responseCreated_docs.json", "application/json"),
        ("formbricks", "formbricks/responseFinished_docs.json", "application/json"),
        ("survicate", "survicate/question_answered_docs_current.json", "application/json"),
        ("jotform", "jotform/submission_zulip_fixture.multipart", JOTFORM_TYPE),
        ("zapier", "zapier/webhooks_by_zapier_post_json_docs.json", "application/json"),
        ("zapier", "zapier/webhooks_by_zapier_post_form_docs.form.txt", FORM),
    ],
)
def test_vendor_examples_without_an_nps_answer_are_ignored_and_nothing_runs(
    stack, context, fixture_bytes, source, fixture, content_type
):
    status, answer = post(context, source, fixture_bytes(fixture), content_type=content_type)
    assert (status, answer) == (202, {"ignored": "no NPS answer"})
    assert [k.split("/")[0] for k in stack.archive_keys()] == ["raw"]
    assert stack.recorded() == [] and stack.queue_messages("FetchQueue") == []


def test_surveymonkey_event_without_answers_is_ignored(stack, context, fixture_bytes):
    body = json.loads(fixture_bytes("surveymonkey/response_completed_filter_survey.json"))
    body["event_type"] = "collector_updated"
    status, answer = post(context, "surveymonkey", json.dumps(body).encode())
    assert status == 202 and "carries no answer" in answer["ignored"]
    assert stack.queue_messages("FetchQueue") == []


@pytest.mark.parametrize(
    ("source", "fixture", "response_id"),
    [("typeform", "typeform/form_response_docs_example.json", "typeform:a3a12ec67a1365927098a606107fac15"),
     ("tally", "tally/form_response_docs_all_field_types.json", "tally:2wgx4n")],
)  # fmt: skip
def test_vendor_examples_with_an_nps_answer_are_recorded(stack, context, fixture_bytes, source, fixture, response_id):
    assert post(context, source, fixture_bytes(fixture)) == (202, {"response_id": response_id})
    (detail,) = stack.recorded()
    assert detail["response"]["response_id"] == response_id


@pytest.mark.parametrize("method", ["HEAD", "GET"])
def test_registration_checks_are_answered_for_known_sources_only(context, method):
    def call(source):
        event = http_event(method, f"/webhooks/{source}", [], b"", Route(method, "/webhooks/{source}"),
                           {"source": source}, "127.0.0.1")  # fmt: skip
        return ingest.lambda_handler(event, context)

    assert call("surveymonkey")["statusCode"] == 200
    assert json.loads(call("qualtrics")["body"]) == {"source": "qualtrics", "accepts": "POST"}
    assert call("nosuchtool")["statusCode"] == 404


def test_token_tools_accept_the_query_parameter_and_refuse_a_wrong_token(stack, context):
    body = b'{"response_id": "z1", "score": "8", "email": "ada@example.com"}'
    event = webhook_event("zapier", body, {})
    event["rawQueryString"] = "token=zapier-token"
    event["queryStringParameters"] = {"token": "zapier-token"}
    result = ingest.lambda_handler(event, context)
    assert (result["statusCode"], json.loads(result["body"])) == (202, {"response_id": "zapier:z1"})
    status, answer = post(context, "zapier", body, {"X-Npsloop-Token": "wrong"})
    assert status == 401 and "token" in answer["error"]
    archive = stack.archive()
    archived = b"".join(archive.read(k) for k in stack.archive_keys())
    assert b"zapier-token" not in archived and len(archive.contents("").deliveries) == 2  # neither keeps the token


def test_a_content_type_the_tool_cannot_send_is_415(stack, context, fixture_bytes):
    body = fixture_bytes("typeform/form_response_docs_example.json")
    status, answer = post(context, "typeform", body, content_type="text/plain")
    assert status == 415 and answer["field"] == "content-type" and "application/json" in answer["error"]
    status, answer = post(context, "jotform", b"a=b", content_type="application/json")
    assert status == 415 and "multipart/form-data" in answer["error"]


def test_jotform_multipart_with_crlf_arrives_base64_and_is_recorded(stack, context, fixture_bytes):
    body = fixture_bytes("jotform/submission_zulip_fixture.multipart")
    raw = fixture_bytes("jotform/submission_zulip_fixture.rawRequest.json")
    nps = json.loads(raw) | {"q50_npsScore": "3", "q51_email": "ada@example.com"}
    body = body.replace(raw, json.dumps(nps).encode()).replace(b"\n", b"\r\n")
    event = webhook_event("jotform", body, {"X-Npsloop-Token": "jotform-token"}, content_type=JOTFORM_TYPE)
    assert event["isBase64Encoded"] is True
    result = ingest.lambda_handler(event, context)
    assert json.loads(result["body"]) == {"response_id": "jotform:6084250982513018472"}
    (detail,) = stack.recorded()
    response = detail["response"]
    assert (response["score"], response["email"]) == (3, "ada@example.com")


def test_the_field_mapping_comes_from_the_ssm_parameter(stack, context):
    payload = {"event": "responseFinished", "data": {"id": "fb1", "data": {"a": 9, "b": 4, "tp": "web"}}}
    body = json.dumps(payload).encode()
    status, answer = post(context, "formbricks", body)
    assert status == 422 and "name it in the formbricks field mapping" in answer["error"]
    stack.set_mapping({"formbricks": {"score": {"id": "b"}, "hidden": {"touchpoint": "tp"}}})
    assert post(context, "formbricks", body) == (202, {"response_id": "formbricks:fb1"})
    (detail,) = stack.recorded()
    response = detail["response"]
    assert (response["score"], response["touchpoint"]) == (4, "web")
    stack.set_mapping({"formbricks": {"score": {"idd": "b"}}})  # the operator's typo: not the sender's fault
    status, answer = post(context, "formbricks", body)
    assert status == 500 and "field mapping of 'formbricks'" in answer["error"]
    archived = stack.archived()
    assert [archived.status(d.delivery_id) for d in archived.deliveries] == ["rejected", None, "rejected"]


def test_qualtrics_signed_delivery_is_queued_and_fetched(stack, context):
    apis = SurveyApis(qualtrics_token="q-token")
    apis.start()
    try:
        _set_base_url(stack, "qualtrics", apis.url)
        apis.add_qualtrics("SV_1", "R_1", {"QID1": 10, "QID1_NPS_GROUP": 3, "QID2_TEXT": "Great",
                                          "recipientEmail": "ada@example.com", "touchpoint": "renewal",
                                          "endDate": "2026-11-20T10:00:00Z"})  # fmt: skip
        body = qualtrics_form({"Status": "Complete", "SurveyID": "SV_1", "ResponseID": "R_1"}, "q-shared-key")
        assert post(context, "qualtrics", body, content_type=FORM) == (202, {"queued": "qualtrics:R_1"})
        assert stack.recorded() == []
        result = fetch_handler.lambda_handler(stack.sqs_event("FetchQueue"), context)
        assert result == {"batchItemFailures": []}
        (detail,) = stack.recorded()
        response = detail["response"]
        assert (response["response_id"], response["score"], response["comment"], response["email"],
                response["touchpoint"]) == ("qualtrics:R_1", 10, "Great", "ada@example.com", "renewal")  # fmt: skip
        unsigned = urlencode({"Topic": "t.surveyengine.completedResponse.SV_1", "SurveyID": "SV_1",
                              "ResponseID": "R_2", "Status": "Complete"}).encode()  # fmt: skip
        assert post(context, "qualtrics", unsigned, content_type=FORM)[0] == 401
    finally:
        apis.stop()


def _set_base_url(stack, source, url):
    from npsloop import aws

    secrets = stack.client("secretsmanager")
    arn = stack.names.refs["AppSecret"]
    value = json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])
    value["sources"][source]["base_url"] = url
    secrets.put_secret_value(SecretId=arn, SecretString=json.dumps(value))
    aws.clear_cache()


def _now(stack, record):
    """Skip the retry delay fetch_response asked for (the local poller would wait it out)."""
    queue = stack.names.refs["FetchQueue"]
    stack.client("sqs").change_message_visibility(QueueUrl=queue, ReceiptHandle=record["receiptHandle"],
                                                  VisibilityTimeout=0)  # fmt: skip


def test_surveymonkey_delivery_survives_an_api_outage(stack, context, fixture_bytes):
    apis = SurveyApis(surveymonkey_token="sm-token")
    apis.start()
    try:
        _set_base_url(stack, "surveymonkey", apis.url)
        apis.add_surveymonkey("123456789", nps_survey("123456789"), {
            "123456": nps_response("123456", 4, "ada@example.com", "Too slow", {"contact_id": "003AAA"})})  # fmt: skip
        body = fixture_bytes("surveymonkey/response_completed_filter_survey.json")
        assert post(context, "surveymonkey", body) == (202, {"queued": "surveymonkey:123456"})
        apis.fail(503, count=3)
        for _attempt in range(2):  # the API is down: the job comes back, with a delay
            event = stack.sqs_event("FetchQueue")
            (record,) = event["Records"]
            result = fetch_handler.lambda_handler(event, context)
            assert result == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
            _now(stack, record)
        assert stack.recorded() == []
        event = stack.sqs_event("FetchQueue")
        fetch_handler.lambda_handler(event, context)  # the third failure: the survey details call
        _now(stack, event["Records"][0])
        assert fetch_handler.lambda_handler(stack.sqs_event("FetchQueue"), context) == {"batchItemFailures": []}
        (detail,) = stack.recorded()
        response = detail["response"]
        got = [response[k] for k in ("response_id", "score", "comment", "email", "contact_id")]
        assert got == ["surveymonkey:123456", 4, "Too slow", "ada@example.com", "003AAA"]
    finally:
        apis.stop()


def test_a_fetched_response_that_cannot_be_mapped_marks_the_delivery_rejected(stack, context):
    apis = SurveyApis(qualtrics_token="q-token")
    apis.start()
    try:
        _set_base_url(stack, "qualtrics", apis.url)
        apis.add_qualtrics("SV_1", "R_9", {"QID1": 14, "QID1_NPS_GROUP": 3})
        body = qualtrics_form({"Status": "Complete", "SurveyID": "SV_1", "ResponseID": "R_9"}, "q-shared-key")
        assert post(context, "qualtrics", body, content_type=FORM)[0] == 202
        assert fetch_handler.lambda_handler(stack.sqs_event("FetchQueue"), context) == {"batchItemFailures": []}
        archived = stack.archived()
        (delivery,) = archived.deliveries
        mark = archived.marks[delivery.delivery_id]
        assert (mark["status"], mark["http_status"], mark["error"]) == ("rejected", 422, "UnprocessableError")
        assert stack.recorded() == []
    finally:
        apis.stop()
