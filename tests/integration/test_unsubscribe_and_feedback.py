"""The unsubscribe page and SES bounce/complaint handling in-process on moto: both fill the opt-out list."""

import json
from datetime import timedelta

from email_feedback import handler as feedback
from unsubscribe import handler as unsubscribe

from npsloop import tokens
from npsloop.stores.optouts import OptOutStore
from npsloop_local.http_api import http_event
from npsloop_local.template import Route

KEY = "unsubscribe-test-key"


def set_key(stack):
    from npsloop import aws

    stack.client("secretsmanager").put_secret_value(
        SecretId=stack.names.refs["AppSecret"], SecretString=json.dumps({"notify": {"token_key": KEY}})
    )
    aws.clear_cache()


def page(context, method, token, path_form=True):
    if path_form:
        event = http_event(method, f"/unsubscribe/{token}", [], b"", Route(method, "/unsubscribe/{token}"),
                           {"token": token}, "127.0.0.1")  # fmt: skip
    else:  # the links sent before the path form
        event = http_event(method, f"/unsubscribe?token={token}", [], b"", Route(method, "/unsubscribe"), {},
                           "127.0.0.1")  # fmt: skip
    result = unsubscribe.lambda_handler(event, context)
    return result["statusCode"], result["body"]


def test_the_query_form_of_links_sent_before_still_opts_out(stack, context):
    set_key(stack)
    store = OptOutStore(stack.names.refs["OptOutsTable"], stack.client("dynamodb"))
    token = tokens.sign({"email": "old@example.com"}, KEY, purpose="unsubscribe", ttl=timedelta(days=1))
    status, html = page(context, "GET", token, path_form=False)
    assert status == 200 and "<form" in html and store.reason("old@example.com") is None
    assert page(context, "POST", token, path_form=False)[0] == 200
    assert store.reason("old@example.com") == "unsubscribed"
    assert page(context, "GET", "forged.token", path_form=False)[0] == 400


def test_get_shows_a_confirm_page_and_post_opts_out(stack, context):
    set_key(stack)
    store = OptOutStore(stack.names.refs["OptOutsTable"], stack.client("dynamodb"))
    token = tokens.sign({"email": "Ada@Example.com", "lang": "de"}, KEY, purpose="unsubscribe", ttl=timedelta(days=1))
    status, html = page(context, "GET", token)
    assert status == 200 and "<form" in html and "Abmelden" in html
    assert store.reason("ada@example.com") is None  # GET changes nothing: mail scanners open links
    status, html = page(context, "POST", token)
    assert status == 200 and "Abgemeldet" in html
    assert store.reason("ada@example.com") == "unsubscribed"
    items = stack.client("dynamodb").scan(TableName=stack.names.refs["OptOutsTable"])["Items"]
    assert "ada@example.com" not in json.dumps(items).lower()  # only the hash is kept
    assert page(context, "POST", token + "x")[0] == 400
    other = tokens.sign({"email": "eve@example.com"}, KEY, purpose="answer", ttl=timedelta(days=1))
    assert page(context, "POST", other)[0] == 400


def test_bounces_and_complaints_from_sns_opt_out(stack, context):
    def record(i, message):
        body = json.dumps({"Type": "Notification", "Message": json.dumps(message)})
        return {"messageId": f"m{i}", "receiptHandle": "r", "body": body, "attributes": {}}

    bounce = {
        "notificationType": "Bounce",
        "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": "gone@example.com"}]},
    }
    transient = {
        "notificationType": "Bounce",
        "bounce": {"bounceType": "Transient", "bouncedRecipients": [{"emailAddress": "full@example.com"}]},
    }
    angry = [{"emailAddress": "angry@example.com"}]
    complaint = {"eventType": "Complaint", "complaint": {"complainedRecipients": angry}}
    event = {
        "Records": [
            record(1, bounce),
            record(2, transient),
            record(3, complaint),
            {"messageId": "m4", "receiptHandle": "r", "body": "{not json", "attributes": {}},
        ]
    }
    assert feedback.lambda_handler(event, context) == {"batchItemFailures": [{"itemIdentifier": "m4"}]}
    store = OptOutStore(stack.names.refs["OptOutsTable"], stack.client("dynamodb"))
    assert store.opted_out(["gone@example.com", "full@example.com", "ANGRY@example.com"]) == {
        "gone@example.com",
        "angry@example.com",
    }
