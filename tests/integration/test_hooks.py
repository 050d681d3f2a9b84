"""Zapier REST hooks in-process on moto: the key-protected endpoints, target checks, signed delivery and retries."""

import json

import pytest
from deliver_hooks import handler as deliver_handler
from hooks_api import handler as hooks_api
from standardwebhooks import Webhook

from npsloop.apikeys import ApiKeyStore, new_key
from npsloop.hooks.delivery import DeliveryMessage
from npsloop.hooks.payload import SAMPLE, webhook_id
from npsloop.hooks.store import HookStore
from npsloop.stores.notify_state import NotifyState
from npsloop_local.cli import main as npsloop
from npsloop_local.http_api import http_event
from npsloop_local.pollers import lambda_record
from npsloop_local.template import Route
from tests.receivers import Receiver

ROUTES = {
    "POST /hooks": "/hooks",
    "DELETE /hooks/{hook_id}": "/hooks/sub_nope",
    "GET /me": "/me",
    "GET /responses": "/responses",
}


@pytest.fixture
def key(stack):
    value = new_key()
    ApiKeyStore(stack.names.refs["ApiKeysTable"], stack.client("dynamodb")).add(value, "zapier")
    return value


def call(context, method, path, body=None, key=None, route=None, params=None, query=""):
    headers = {"content-type": "application/json"}
    if key:
        headers["X-Api-Key"] = key
    raw = json.dumps(body).encode() if body is not None and not isinstance(body, bytes) else (body or b"")
    event = http_event(
        method,
        path + (f"?{query}" if query else ""),
        list(headers.items()),
        raw,
        Route(method, route or path),
        params or {},
        "127.0.0.1",
    )
    result = hooks_api.lambda_handler(event, context)
    return result["statusCode"], json.loads(result["body"]) if result.get("body") else None


def test_every_hook_endpoint_answers_401_without_a_valid_key(stack, context):
    for route, path in ROUTES.items():
        method = route.split()[0]
        status, body = call(
            context,
            method,
            path,
            {"target_url": "https://x.example", "event": "response.created"},
            route=route.split()[1],
            params={"hook_id": "sub_nope"} if "{" in route else None,
        )
        assert status == 401, route
        assert call(context, method, path, key="npl_wrong", route=route.split()[1])[0] == 401


def test_subscribe_returns_id_and_whsec_secret_and_delete_removes_it(stack, context, key, monkeypatch):
    monkeypatch.setattr("npsloop.hooks.targets.system_resolver", lambda host, port: ["52.1.2.3"])
    status, body = call(
        context,
        "POST",
        "/hooks",
        {"target_url": "https://hooks.zapier.com/hooks/standard/1/abc/", "event": "response.detractor"},
        key,
    )
    assert status == 201 and body["id"].startswith("sub_") and body["secret"].startswith("whsec_")
    stored = HookStore(stack.names.refs["HooksTable"], stack.client("dynamodb")).get(body["id"])
    assert stored.event == "response.detractor" and stored.secret == body["secret"]
    path = f"/hooks/{body['id']}"
    assert call(context, "DELETE", path, key=key, route="/hooks/{hook_id}", params={"hook_id": body["id"]})[0] == 204
    assert call(context, "DELETE", path, key=key, route="/hooks/{hook_id}", params={"hook_id": body["id"]})[0] == 404


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/hook", "https://127.0.0.1/hook", "https://10.0.0.1/hook", "https://169.254.169.254/latest",
    "https://[::1]/x", "https://[::ffff:10.0.0.1]/x", "https://192.168.1.10/x", "http://hooks.zapier.com/x",
    "https://user:pw@hooks.zapier.com/x", "ftp://hooks.zapier.com/x", "not a url",
])  # fmt: skip
def test_targets_that_are_not_public_https_are_refused_with_422(stack, context, key, url):
    status, body = call(context, "POST", "/hooks", {"target_url": url, "event": "response.created"}, key)
    assert (status, body["field"]) == (422, "target_url"), body


def test_a_name_resolving_to_a_private_address_is_refused(stack, context, key, monkeypatch):
    monkeypatch.setattr("npsloop.hooks.targets.system_resolver", lambda host, port: ["52.1.2.3", "10.1.1.1"])
    status, body = call(
        context, "POST", "/hooks", {"target_url": "https://rebind.example/x", "event": "response.created"}, key
    )
    assert status == 422 and "public address" in body["error"]


def test_loopback_flag_admits_http_to_127_0_0_1_and_nothing_else(stack, context, key, monkeypatch):
    monkeypatch.setenv("ALLOW_LOOPBACK_TARGETS", "true")
    from npsloop import config, wiring

    config.settings.cache_clear()
    wiring.hooks_api.cache_clear()
    ok = call(context, "POST", "/hooks", {"target_url": "http://127.0.0.1:8080/x", "event": "response.created"}, key)
    assert ok[0] == 201
    for url in ("http://10.0.0.1/x", "http://localhost/x", "https://169.254.169.254/x", "http://[::1]/x"):
        assert call(context, "POST", "/hooks", {"target_url": url, "event": "response.created"}, key)[0] == 422, url


def test_bad_bodies_and_events_are_4xx(stack, context, key):
    assert call(context, "POST", "/hooks", b"{nope", key)[0] == 400
    status, body = call(context, "POST", "/hooks", {"target_url": "https://x.example", "event": "response.nope"}, key)
    assert (status, body["field"]) == (422, "event")


def test_me_names_the_key_and_recent_responses_come_newest_first_from_the_responses_table(stack, context, key):
    assert call(context, "GET", "/me", key=key)[1]["label"] == "npsloop (zapier)"
    from datetime import UTC, datetime, timedelta

    from npsloop.models import CanonicalResponse
    from npsloop.stores.responses import ResponseStore

    store = ResponseStore(stack.names.refs["ResponsesTable"], stack.client("dynamodb"))
    now = datetime.now(UTC) - timedelta(hours=1)
    for i, score in enumerate([2, 9, 3, 4]):
        response = CanonicalResponse(response_id=f"generic:{i}", source="generic", score=score,
                                     email=f"p{i}@example.com", responded_at=now + timedelta(minutes=i))  # fmt: skip
        store.create(response, received_at=now + timedelta(minutes=i), historical=i == 3)  # an import: not news
    status, items = call(context, "GET", "/responses", key=key, query="event=response.detractor")
    assert status == 200 and [i["id"] for i in items] == ["generic:2", "generic:0"]
    assert items[0]["event"] == "response.detractor" and items[0]["score"] == 3 and items[0]["category"] == "detractor"
    assert set(items[0]) >= set(SAMPLE)  # the same fields a hook delivers
    assert [i["id"] for i in call(context, "GET", "/responses", key=key, query="event=response.created&limit=2")[1]
            ] == ["generic:2", "generic:1"]  # fmt: skip
    assert call(context, "GET", "/responses", key=key, query="event=response.passive")[1] == []
    sample = call(context, "GET", "/responses", key=key, query="event=response.passive&sample=1")[1]
    assert sample[0]["event"] == "response.passive" and sample[0]["id"]


# --- delivery -------------------------------------------------------------------------------------------------
def queue_delivery(stack, sub, payload=None):
    message = DeliveryMessage(
        webhook_id=webhook_id(sub.id, "generic:1", sub.event),
        subscription_id=sub.id,
        event=sub.event,
        payload=payload or {**SAMPLE, "event": sub.event},
    )
    queue = stack.names.refs["DeliveriesQueue"]
    stack.client("sqs").send_message(QueueUrl=queue, MessageBody=message.model_dump_json())
    return message


def deliver(stack, context):
    messages = stack.queue_messages("DeliveriesQueue", visibility=30)
    event = {"Records": [lambda_record(m, stack.names.arns["DeliveriesQueue"]) for m in messages]}
    return deliver_handler.lambda_handler(event, context), messages


@pytest.fixture
def loopback(monkeypatch):
    monkeypatch.setenv("ALLOW_LOOPBACK_TARGETS", "true")
    from npsloop import config, wiring

    config.settings.cache_clear()
    wiring.deliver.cache_clear()


def test_delivery_is_signed_with_standard_webhooks_headers(stack, context, loopback):
    target = Receiver()
    try:
        sub = HookStore(stack.names.refs["HooksTable"], stack.client("dynamodb")).add(
            target.url, "response.created", "test"
        )
        message = queue_delivery(stack, sub)
        result, _ = deliver(stack, context)
        assert result == {"batchItemFailures": []}
        post = target.posts[0]
        assert post["headers"]["webhook-id"] == message.webhook_id
        assert Webhook(sub.secret).verify(post["raw"], post["headers"]) == {**SAMPLE, "event": "response.created"}
    finally:
        target.stop()


def test_503_backs_off_410_unsubscribes_and_redirects_are_not_followed(stack, context, loopback):
    hooks = HookStore(stack.names.refs["HooksTable"], stack.client("dynamodb"))
    busy, gone = Receiver(statuses=[503]), Receiver(statuses=[410])
    moved = Receiver(statuses=[302], headers={"Location": busy.url})
    try:
        subs = [hooks.add(r.url, "response.created", "test") for r in (busy, gone, moved)]
        for sub in subs:
            queue_delivery(stack, sub)
        result, messages = deliver(stack, context)
        retry_id = next(m["MessageId"] for m in messages if subs[0].id in m["Body"])
        assert result == {"batchItemFailures": [{"itemIdentifier": retry_id}]}
        assert hooks.get(subs[1].id) is None and hooks.get(subs[0].id) is not None
        assert len(busy.posts) == 1  # the redirect was not followed
        letters = stack.queue_messages("DeliveriesDeadLetterQueue")
        assert [m["MessageAttributes"]["ErrorCode"]["StringValue"] for m in letters] == ["HTTP_302"]
    finally:
        for r in (busy, gone, moved):
            r.stop()


def test_a_deleted_subscription_gets_nothing_and_the_rate_bucket_holds_30_per_second(stack, context, loopback):
    target = Receiver()
    try:
        hooks = HookStore(stack.names.refs["HooksTable"], stack.client("dynamodb"))
        sub = hooks.add(target.url, "response.created", "test")
        queue_delivery(stack, sub)
        hooks.delete(sub.id)
        assert deliver(stack, context)[0] == {"batchItemFailures": []} and target.posts == []
    finally:
        target.stop()
    state = NotifyState(stack.names.refs["NotifyTable"], stack.client("dynamodb"))
    assert [state.take("t", 30, now=1000.2) for _ in range(31)].count(True) == 30
    assert state.take("t", 30, now=1001.0) and state.take("other", 30, now=1000.5)


def test_cli_adds_lists_and_removes_a_catch_hook(stack, capsys):
    url = "https://hooks.zapier.com/hooks/catch/123/abc/"
    assert (
        npsloop(["hooks", "add", "--url", "https://10.0.0.1/x", "--event", "response.created", "--aws-url", stack.url])
        == 2
    )
    assert "public address" in capsys.readouterr().err
    import npsloop.hooks.targets as targets

    original = targets.system_resolver
    targets.system_resolver = lambda host, port: ["52.1.2.3"]
    try:
        assert npsloop(["hooks", "add", "--url", url, "--event", "response.promoter", "--aws-url", stack.url]) == 0
    finally:
        targets.system_resolver = original
    out = capsys.readouterr().out
    sub_id = out.split()[0]
    assert "whsec_" in out
    assert npsloop(["hooks", "list", "--aws-url", stack.url]) == 0
    assert url in capsys.readouterr().out
    assert npsloop(["hooks", "remove", sub_id, "--aws-url", stack.url]) == 0
    assert npsloop(["hooks", "remove", sub_id, "--aws-url", stack.url]) == 1
