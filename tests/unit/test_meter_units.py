"""The meter's DynamoDB write units: the larger of the item before and after, twice in a transaction, and the writes
a global secondary index adds (on every change when it projects the item, only when its keys change when not)."""

import boto3
import pytest
from moto import mock_aws

from npsloop_local.meter import Meter, install

METER = Meter()  # moto is patched once per process, for one meter


@pytest.fixture
def metered():
    install(METER)
    meter = METER
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-central-1")
        for name, projection in (("keys", "KEYS_ONLY"), ("all", "ALL")):
            client.create_table(
                TableName=name, BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("id", "month")],
                GlobalSecondaryIndexes=[{"IndexName": "ByMonth", "KeySchema": [{"AttributeName": "month",
                                         "KeyType": "HASH"}], "Projection": {"ProjectionType": projection}}],
            )  # fmt: skip
        yield client, meter


def units(meter, table):
    counts = meter.snapshot()
    return counts.get(f"dynamodb.WRU.{table}", 0), counts.get(f"dynamodb.WRU.{table}.ByMonth", 0)


def test_an_index_of_keys_is_written_only_when_its_keys_come_or_change(metered):
    client, meter = metered
    big = {"S": "x" * 1500}
    meter.reset()
    client.put_item(TableName="keys", Item={"id": {"S": "1"}, "month": {"S": "2026-08"}, "data": big})
    assert units(meter, "keys") == (2, 1)
    client.update_item(TableName="keys", Key={"id": {"S": "1"}}, UpdateExpression="SET link = :l",
                       ExpressionAttributeValues={":l": {"S": "001"}})  # fmt: skip
    assert units(meter, "keys") == (4, 1)  # the item is 1.5 KB before and after: 2 units; the index is untouched
    client.update_item(TableName="keys", Key={"id": {"S": "1"}}, UpdateExpression="REMOVE #d",
                       ExpressionAttributeNames={"#d": "data"})  # fmt: skip
    assert units(meter, "keys") == (6, 1)  # billed on the larger size: before
    client.update_item(TableName="keys", Key={"id": {"S": "1"}}, UpdateExpression="SET #m = :m",
                       ExpressionAttributeNames={"#m": "month"}, ExpressionAttributeValues={":m": {"S": "2026-09"}})
    assert units(meter, "keys") == (7, 3)  # the entry moves: one put, one delete


def test_an_index_of_the_whole_item_is_written_with_every_change_and_transactions_count_twice(metered):
    client, meter = metered
    meter.reset()
    client.put_item(TableName="all", Item={"id": {"S": "1"}, "month": {"S": "2026-08"}, "data": {"S": "x" * 1500}})
    client.update_item(TableName="all", Key={"id": {"S": "1"}}, UpdateExpression="SET link = :l",
                       ExpressionAttributeValues={":l": {"S": "001"}})  # fmt: skip
    assert units(meter, "all") == (4, 4)
    client.transact_write_items(TransactItems=[{"Put": {"TableName": "keys", "Item": {"id": {"S": "t"}}}}])
    assert units(meter, "keys") == (2, 0)  # no month: not in the index


def test_the_meter_reads_whether_each_table_is_read_strongly_and_leaves_the_body_for_moto():
    import io
    import json

    from npsloop_local.meter import _read_consistency

    body = json.dumps({"RequestItems": {"a": {"Keys": [], "ConsistentRead": True}, "b": {"Keys": []}}}).encode()
    environ = {"wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
    assert _read_consistency(environ, "dynamodb.BatchGetItem") == {"a": True, "b": False}
    assert environ["wsgi.input"].read() == body
    query = json.dumps({"TableName": "t"}).encode()
    environ = {"wsgi.input": io.BytesIO(query), "CONTENT_LENGTH": str(len(query))}
    assert _read_consistency(environ, "dynamodb.Query") == {"t": False}
    assert _read_consistency({}, "dynamodb.PutItem") == {}


def test_a_write_is_billed_in_write_units_only_though_moto_looks_at_the_item_first(metered):
    client, meter = metered
    client.put_item(TableName="keys", Item={"id": {"S": "r"}, "month": {"S": "2026-08"}})
    meter.reset()
    client.update_item(TableName="keys", Key={"id": {"S": "r"}}, UpdateExpression="SET link = :l",
                       ExpressionAttributeValues={":l": {"S": "001"}})  # fmt: skip
    client.transact_write_items(TransactItems=[{"Update": {"TableName": "keys", "Key": {"id": {"S": "r"}},
                                                           "UpdateExpression": "SET n = :n",
                                                           "ExpressionAttributeValues": {":n": {"N": "1"}}}}])
    client.put_item(TableName="keys", Item={"id": {"S": "r"}}, ReturnValues="ALL_OLD")
    assert "dynamodb.RRU" not in meter.snapshot()
    client.get_item(TableName="keys", Key={"id": {"S": "r"}})
    assert meter.snapshot()["dynamodb.RRU"] == 1  # a read request is still billed
