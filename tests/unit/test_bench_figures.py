"""The pipeline bench's arithmetic and the moto meter's request names (the measurements themselves are `make bench`)."""

import pytest

from npsloop_local.bench_pipeline import PRICES, cost_figures, latency_figures, usage
from npsloop_local.meter import request_name


def test_usage_adds_up_requests_by_service_invocations_and_log_bytes():
    meter = {"request.sqs.ReceiveMessage": 30, "request.sqs.DeleteMessageBatch": 10,
             "sqs.SendMessage (from EventBridge)": 50, "request.s3.PUT": 10,
             "request.secretsmanager.GetSecretValue": 2, "dynamodb.WRU": 40, "events.events": 30,
             "request.ses.SendEmail": 3, "request.firehose.PutRecord": 10, "firehose.records": 10,
             "firehose.billed_bytes": 10 * 5120}  # fmt: skip
    used = usage(meter, {"Ingest": (10, 2.0, 256), "Sync": (2, 4.0, 512)}, posts=10, log_bytes=5000)
    assert used["sqs.requests"] == 90 and used["s3.PUT"] == 10 and used["secretsmanager.requests"] == 2
    assert used["lambda.requests"] == 12 and used["lambda.gb_seconds"] == pytest.approx(2.0 * 0.25 + 4.0 * 0.5)
    assert used["apigateway.requests"] == 10 and used["logs.bytes"] == 5000 and used["ses.emails"] == 3
    assert used["firehose.billed_bytes"] == 51200


def test_firehose_bills_each_record_in_5_kb_increments_and_a_million_deliveries_cost_cents():
    from npsloop_local.meter import billed_bytes

    assert [billed_bytes(n) for n in (0, 1, 5120, 5121, 12_000)] == [5120, 5120, 5120, 10240, 15360]
    rows = {r["figure"]: r for r in cost_figures({"firehose.billed_bytes": billed_bytes(2048)}, 1)}
    assert rows["cost_per_million.firehose.billed_bytes"]["value"] == pytest.approx(0.138, abs=0.001)  # vs $5 of PUTs


def test_stream_reads_are_counted_apart_from_dynamodb_and_cost_nothing():
    meter = {"request.dynamodbstreams.GetRecords": 400, "request.dynamodbstreams.GetShardIterator": 1,
             "request.dynamodb.PutItem": 10, "dynamodb.RRU": 5}  # fmt: skip
    used = usage(meter, {}, posts=10, log_bytes=0)
    assert used["dynamodbstreams.requests"] == 401 and used["dynamodb.RRU"] == 5
    rows = {r["figure"]: r for r in cost_figures(used, 10)}
    assert rows["aws.dynamodbstreams.requests_per_response"]["value"] == pytest.approx(40.1)
    assert rows["cost_per_million.dynamodbstreams.requests"]["value"] == 0
    assert rows["cost_per_million_responses"]["value"] == pytest.approx(1.0 + 0.5 * 0.125, abs=0.01)  # posts, RRU


def test_cost_per_million_prices_each_line_and_leaves_the_lines_apart_out_of_the_total():
    rows = {r["figure"]: r for r in cost_figures({"apigateway.requests": 10, "s3.PUT": 10, "ses.emails": 10}, 10)}
    assert rows["cost_per_million.apigateway.requests"]["value"] == pytest.approx(1.0)
    assert rows["cost_per_million.s3.PUT"]["value"] == pytest.approx(5.0)
    assert rows["cost_per_million.ses.emails"]["apart"] is True
    total = rows["cost_per_million_responses"]
    assert total["value"] == pytest.approx(6.0) and total["baseline"] == 13.9
    assert set(PRICES) >= {"dynamodb.WRU", "events.events", "lambda.gb_seconds", "logs.bytes"}


def test_latency_is_from_each_post_to_its_record_and_throughput_over_the_whole_span():
    posted = {"a": 1000.0, "b": 1001.0, "c": 1002.0}
    records = [{"Response_Id__c": f"generic:{rid}", "CreatedDate": created} for rid, created in
               (("a", "1970-01-01T00:16:42.000+0000"), ("b", "1970-01-01T00:16:44.000+0000"),
                ("c", "1970-01-01T00:16:46.500+0000"))]  # fmt: skip
    rows = {r["figure"]: r["value"] for r in latency_figures(posted, records)}
    assert rows["pipeline_post_to_record_p50"] == 3.0 and rows["pipeline_post_to_record_p95"] == 3.0
    assert rows["pipeline_responses_per_second"] == round(3 / 6.5, 1)


@pytest.mark.parametrize(
    ("environ", "name"),
    [
        ({"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.PutItem"}, "dynamodb.PutItem"),
        ({"HTTP_X_AMZ_TARGET": "DynamoDBStreams_20120810.GetRecords"}, "dynamodbstreams.GetRecords"),
        ({"HTTP_X_AMZ_TARGET": "AmazonSQS.ReceiveMessage"}, "sqs.ReceiveMessage"),
        ({"HTTP_X_AMZ_TARGET": "AWSEvents.PutEvents"}, "events.PutEvents"),
        ({"REQUEST_METHOD": "PUT", "PATH_INFO": "/bucket/raw/x",
          "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=k/20261122/eu-central-1/s3/aws4_request"}, "s3.PUT"),
        ({"REQUEST_METHOD": "POST", "PATH_INFO": "/v2/email/outbound-emails"}, "ses.SendEmail"),
        ({"REQUEST_METHOD": "POST", "PATH_INFO": "/", "QUERY_STRING": "Action=Publish",
          "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=k/20261122/eu-central-1/sns/aws4_request"}, "sns.Publish"),
    ],
)
def test_the_meter_names_requests_by_service_and_action(environ, name):
    assert request_name(environ) == name
