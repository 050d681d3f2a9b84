"""Handlers called in-process against a moto server holding every resource of template.yaml."""

import base64
import gc
import json
import logging
import socket
from datetime import UTC, datetime

import pytest
import requests
from standardwebhooks import Webhook

from npsloop_local.http_api import http_event
from npsloop_local.resources import aws_client, create_all
from npsloop_local.stack import local_secret
from npsloop_local.template import Route, Template

GENERIC_SECRET = "whsec_" + base64.b64encode(b"integration-generic-secret").decode()
TYPEFORM_SECRET = "integration-typeform-secret"
SOURCE_SECRETS = {
    "generic": {"signing_secret": GENERIC_SECRET},
    "typeform": {"signing_secret": TYPEFORM_SECRET},
    "surveymonkey": {"api_key": "sm-key", "api_secret": "sm-secret", "access_token": "sm-token"},
    "qualtrics": {"signing_secret": "q-shared-key", "api_token": "q-token"},
    "survicate": {"signing_secret": "survicate-secret"},
    "formbricks": {"signing_secret": "whsec_" + base64.b64encode(b"integration-formbricks").decode()},
    "tally": {"signing_secret": "tally-secret"},
    "jotform": {"token": "jotform-token"},
    "trustmary": {"token": "trustmary-token"},
    "zapier": {"token": "zapier-token"},
}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def moto_url():
    from moto.server import ThreadedMotoServer

    from npsloop_local.moto_server import patch_moto

    patch_moto()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def _clear_caches():
    from npsloop import aws, config, wiring

    aws.client.cache_clear()
    gc.unfreeze()  # what npsloop.aws.client froze (the clients of the last test among it) may be collected again
    config.settings.cache_clear()
    wiring.ingest.cache_clear()
    wiring.score.cache_clear()
    wiring.sentiment.cache_clear()
    wiring.taxonomy.cache_clear()
    wiring.reports.cache_clear()
    wiring.dashboard.cache_clear()
    wiring.fetch.cache_clear()
    wiring._salesforce_client.cache_clear()
    for factory in (wiring._notify_stores, wiring.hooks_api, wiring.deliver, wiring.unsubscribe, wiring.email_feedback,
                    wiring._surveys_api_stores, wiring._send_survey_stores, wiring.answer_survey,
                    wiring.remind_surveys):
        factory.cache_clear()
    aws.clear_cache()


class Stack:
    """The deployed shape on moto: physical names, the functions' environment, and helpers to look inside."""

    def __init__(self, url, names, template):
        self.url, self.names, self.template = url, names, template
        self.stream_positions = {}

    def client(self, service):
        return aws_client(service, self.url)

    def queue_messages(self, logical_id, max_messages=10, visibility=30):
        out = []
        while True:
            got = (
                self.client("sqs")
                .receive_message(
                    QueueUrl=self.names.refs[logical_id],
                    MaxNumberOfMessages=10,
                    VisibilityTimeout=visibility,
                    MessageAttributeNames=["All"],
                    AttributeNames=["All"],
                )
                .get("Messages", [])
            )
            out.extend(got)
            if not got or len(out) >= max_messages:
                return out

    def queued_events(self, logical_id, max_messages=200):
        """The events a queue holds, one per response: a batched event (detail {"responses": [...]}) is unpacked."""
        out = []
        for message in self.queue_messages(logical_id, max_messages):
            event = json.loads(message["Body"])
            batch = event["detail"].get("responses")
            out.extend([{**event, "detail": d} for d in batch] if batch is not None else [event])
        return out

    def stream_event(self, logical_id="ResponsesTable", limit=1000, reader="compute"):
        """The table's stream records written since this reader's last call, as Lambda hands them to compute_score."""
        streams = self.client("dynamodbstreams")
        arn = self.names.stream_arns[logical_id]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        after = self.stream_positions.get((arn, reader))
        where = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after} if after else {
            "ShardIteratorType": "TRIM_HORIZON"}  # fmt: skip
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, **where)["ShardIterator"]
        records = streams.get_records(ShardIterator=iterator, Limit=limit)["Records"]
        if records:
            self.stream_positions[(arn, reader)] = records[-1]["dynamodb"]["SequenceNumber"]
        return {"Records": [{**r, "eventSourceARN": arn} for r in records]}

    def recorded(self):
        """The revisions stored since the last call (what compute_score scores), as {revision, received_at,
        historical, response}."""
        from npsloop.compute import changes

        return [{"revision": int(c.new["revision"]["N"]), "received_at": c.new["received_at"]["S"],
                 "historical": c.new["historical"]["BOOL"], "response": json.loads(c.new["data"]["S"])}
                for c in changes(self.stream_event(reader="recorded")) if c.new_revision]  # fmt: skip

    def sqs_event(self, logical_id, max_messages=200):
        """Receive what a rule delivered and wrap it as Lambda's SQS event."""
        from npsloop_local.pollers import lambda_record

        messages = self.queue_messages(logical_id, max_messages)
        return {"Records": [lambda_record(m, self.names.arns[logical_id]) for m in messages]}

    def set_mapping(self, document):
        self.client("ssm").put_parameter(Name=self.names.refs["MappingParameter"], Value=json.dumps(document),
                                         Type="String", Overwrite=True)  # fmt: skip
        from npsloop import aws

        aws.clear_cache()

    def archive(self):
        from npsloop.stores.archive import ArchiveBucket

        return ArchiveBucket(self.names.refs["ArchiveBucket"], self.client("s3"))

    def archived(self, prefix=""):
        """The archived deliveries (under `prefix`) and the latest status mark of each delivery id."""
        return self.archive().contents(prefix)

    def archive_keys(self):
        bucket = self.names.refs["ArchiveBucket"]
        return [o["Key"] for o in self.client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])]

    def aggregate(self, pk, sk):
        from npsloop.stores.aggregates import AggregateStore

        return AggregateStore(self.names.refs["AggregatesTable"], self.client("dynamodb")).get(pk, sk)


@pytest.fixture
def stack(moto_url, monkeypatch, tmp_path):
    requests.post(f"{moto_url}/moto-api/reset", timeout=10)
    secrets_file = tmp_path / "secrets.json"
    secrets_file.write_text(
        json.dumps(
            {
                "sources": SOURCE_SECRETS,
                "salesforce": {"login_url": "http://127.0.0.1:9", "client_id": "c", "client_secret": "s"},
            }
        )
    )
    secret, _ = local_secret(secrets_file)
    template = Template()
    names = create_all(template, moto_url, secret)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    for fn in template.functions():
        for key, value in fn.environment.items():
            monkeypatch.setenv(key, str(names.resolve(value)))
    _clear_caches()
    yield Stack(moto_url, names, template)
    _clear_caches()


class FakeContext:
    function_name = "test"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:test"
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self):
        return 30_000


@pytest.fixture
def context():
    return FakeContext()


def webhook_event(source, body: bytes, headers=None, content_type="application/json"):
    headers = {"content-type": content_type, **(headers or {})}
    return http_event(
        "POST",
        f"/webhooks/{source}",
        list(headers.items()),
        body,
        Route("POST", "/webhooks/{source}"),
        {"source": source},
        "127.0.0.1",
    )


def generic_headers(body: bytes, secret=GENERIC_SECRET, msg_id="msg_1"):
    now = datetime.now(UTC)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, now, body.decode()),
    }


@pytest.fixture(scope="session")
def standin():
    from npsloop_local.standin import SalesforceStandin

    server = SalesforceStandin()
    server.start("127.0.0.1", 0)
    yield server
    server.stop()


@pytest.fixture
def org(standin, stack):
    """The stand-in wiped clean, the stack's secret pointed at it, and `org.create(sobject, fields)` for setup."""
    from npsloop.salesforce import client as sf_client

    from .salesforce import use_secret

    requests.post(f"{standin.url}/__standin/reset", timeout=10)
    sf_client._tokens.clear()
    sf_client._refused.clear()
    use_secret(stack, {"login_url": standin.url, "client_id": "c", "client_secret": "s"})
    token = requests.post(
        f"{standin.url}/services/oauth2/token",
        timeout=10,
        data={"grant_type": "client_credentials", "client_id": "t", "client_secret": "t"},
    ).json()

    def create(sobject, fields):
        answer = requests.post(
            f"{standin.url}/services/data/v62.0/sobjects/{sobject}",
            json=fields,
            timeout=10,
            headers={"Authorization": f"Bearer {token['access_token']}"},
        )
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    standin.create = create
    yield standin
    sf_client._tokens.clear()


@pytest.fixture
def seeded(stack, context):
    """tests/seed.py's responses ingested and scored; returns an API key that may read them."""
    from compute_score import handler as compute

    from npsloop.apikeys import ApiKeyStore, new_key

    from ..seed import seed_payloads
    from .test_ingest import generic

    for payload in seed_payloads():
        generic(context, payload)
    while (event := stack.stream_event())["Records"]:
        assert compute.lambda_handler(event, context) == {"batchItemFailures": []}
    key = new_key()
    ApiKeyStore(stack.names.refs["ApiKeysTable"], stack.client("dynamodb")).add(key, "analyst")
    return key
