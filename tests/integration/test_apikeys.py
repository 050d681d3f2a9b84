"""API keys: stored as hashes, checked by the middleware every key-protected route uses, revocable from the CLI."""

import json

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from npsloop.apikeys import ApiKeyStore, key_hash, new_key
from npsloop.http import api_key_required, json_response
from npsloop_local.cli import main as npsloop
from npsloop_local.http_api import http_event
from npsloop_local.template import Route


def store(stack):
    return ApiKeyStore(stack.names.refs["ApiKeysTable"], stack.client("dynamodb"))


def test_only_the_hash_is_stored(stack):
    key = new_key()
    record = store(stack).add(key, "zapier")
    items = stack.client("dynamodb").scan(TableName=stack.names.refs["ApiKeysTable"])["Items"]
    assert key not in json.dumps(items)
    assert items[0]["key_hash"]["S"] == key_hash(key) and record.key_id == key_hash(key)[:12]
    assert store(stack).check(key).name == "zapier"
    assert store(stack).check("npl_wrong") is None and store(stack).check(None) is None


def test_middleware_refuses_missing_and_wrong_keys(stack, context):
    keys = store(stack)
    key = new_key()
    keys.add(key, "test")
    app = APIGatewayHttpResolver()
    app.use(middlewares=[api_key_required(lambda: keys)])

    @app.get("/me")
    def me():
        return json_response(200, {"ok": True})

    def call(headers):
        event = http_event("GET", "/me", list(headers.items()), b"", Route("GET", "/me"), {}, "127.0.0.1")
        result = app.resolve(event, context)
        return result["statusCode"], json.loads(result["body"])

    assert call({}) == (401, {"error": "X-Api-Key header is missing"})
    assert call({"X-Api-Key": "npl_nope"})[0] == 401
    assert call({"X-Api-Key": key}) == (200, {"ok": True})


def test_cli_creates_lists_and_revokes(stack, capsys):
    assert npsloop(["apikey", "create", "--name", "analyst", "--aws-url", stack.url]) == 0
    key = capsys.readouterr().out.split()[0]
    assert key.startswith("npl_") and store(stack).check(key).name == "analyst"
    assert npsloop(["apikey", "list", "--aws-url", stack.url]) == 0
    listing = capsys.readouterr().out
    assert "analyst" in listing and key not in listing
    assert npsloop(["apikey", "revoke", key_hash(key)[:12], "--aws-url", stack.url]) == 0
    assert store(stack).check(key) is None
    assert npsloop(["apikey", "revoke", "000000000000", "--aws-url", stack.url]) == 1
