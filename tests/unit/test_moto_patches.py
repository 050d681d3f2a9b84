"""The local stack's moto changes keep moto's behaviour: a cancelled transaction leaves every item as it was."""

import socket

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from npsloop_local.moto_server import patch_moto
from npsloop_local.resources import aws_client


@pytest.fixture
def dynamodb():
    patch_moto()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-central-1")
        for name, keys in (("plain", ["pk"]), ("ranged", ["pk", "sk"])):
            kinds = ("HASH", "RANGE")[: len(keys)]
            client.create_table(
                TableName=name, BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in zip(keys, kinds, strict=True)],
                AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in keys],
            )  # fmt: skip
        client.put_item(TableName="plain", Item={"pk": {"S": "a"}, "n": {"N": "1"}})
        client.put_item(TableName="ranged", Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "n": {"N": "1"}})
        yield client


def _items(client, table):
    return sorted(client.scan(TableName=table)["Items"], key=lambda i: (i["pk"]["S"], i.get("sk", {}).get("S", "")))


def test_a_cancelled_transaction_puts_back_every_item_it_touched(dynamodb):
    before = {t: _items(dynamodb, t) for t in ("plain", "ranged")}
    add = {"UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}
    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(TransactItems=[
            {"Update": {"TableName": "plain", "Key": {"pk": {"S": "a"}}, **add}},
            {"Put": {"TableName": "plain", "Item": {"pk": {"S": "new"}}}},
            {"Update": {"TableName": "ranged", "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}}, **add}},
            {"Put": {"TableName": "ranged", "Item": {"pk": {"S": "a"}, "sk": {"S": "2"}}}},
            {"ConditionCheck": {"TableName": "plain", "Key": {"pk": {"S": "absent"}},
                                "ConditionExpression": "attribute_exists(pk)"}},
        ])  # fmt: skip
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert {t: _items(dynamodb, t) for t in ("plain", "ranged")} == before


def test_a_transaction_that_succeeds_writes_every_item(dynamodb):
    dynamodb.transact_write_items(TransactItems=[
        {"Update": {"TableName": "plain", "Key": {"pk": {"S": "a"}}, "UpdateExpression": "ADD n :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"Put": {"TableName": "ranged", "Item": {"pk": {"S": "a"}, "sk": {"S": "2"}}}},
    ])  # fmt: skip
    assert _items(dynamodb, "plain")[0]["n"] == {"N": "2"}
    assert len(_items(dynamodb, "ranged")) == 2


def test_a_query_reads_its_partition_only_and_answers_as_before(dynamodb, monkeypatch):
    from moto.dynamodb.models.table import Table

    # Given a ranged table with three partitions, one of them larger than a page of two, and a plain table
    for pk in ("a", "b", "c"):
        for sk in ("1", "2", "3", "4", "5"):
            dynamodb.put_item(TableName="ranged", Item={"pk": {"S": pk}, "sk": {"S": sk}, "n": {"N": sk}})
    monkeypatch.setattr(Table, "all_items", lambda self: pytest.fail("a Query sorted the whole table"))

    def query(**request):
        pages, start = [], None
        while True:
            page = dynamodb.query(TableName="ranged", **request, **({"ExclusiveStartKey": start} if start else {}))
            pages.append([(i["pk"]["S"], i["sk"]["S"]) for i in page["Items"]])
            start = page.get("LastEvaluatedKey")
            if not start:
                return pages

    between = {"KeyConditionExpression": "pk = :pk AND sk BETWEEN :a AND :b",
               "ExpressionAttributeValues": {":pk": {"S": "b"}, ":a": {"S": "2"}, ":b": {"S": "4"}}}  # fmt: skip
    # When it is queried by partition, sort key range, page, order and filter, Then only that partition answers
    assert query(**between) == [[("b", "2"), ("b", "3"), ("b", "4")]]
    assert query(**between, Limit=2) == [[("b", "2"), ("b", "3")], [("b", "4")]]
    assert query(**between, ScanIndexForward=False) == [[("b", "4"), ("b", "3"), ("b", "2")]]
    odd = {"FilterExpression": "n <> :two", "ExpressionAttributeValues": {**between["ExpressionAttributeValues"],
                                                                          ":two": {"N": "3"}}}  # fmt: skip
    assert query(KeyConditionExpression=between["KeyConditionExpression"], **odd) == [[("b", "2"), ("b", "4")]]
    absent = {"KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": {"S": "none"}}}
    assert query(**absent) == [[]]
    plain = dynamodb.query(TableName="plain", KeyConditionExpression="pk = :pk",
                           ExpressionAttributeValues={":pk": {"S": "a"}})["Items"]  # fmt: skip
    assert plain == [{"pk": {"S": "a"}, "n": {"N": "1"}}]


def test_sqs_still_answers_its_attributes_and_content_based_deduplication():
    patch_moto()
    with mock_aws():
        sqs = boto3.client("sqs", region_name="eu-central-1")
        settings = {"FifoQueue": "true", "ContentBasedDeduplication": "true"}
        fifo = sqs.create_queue(QueueName="q.fifo", Attributes=settings)["QueueUrl"]
        for _ in range(2):  # the same body twice: deduplicated by content
            sqs.send_message(QueueUrl=fifo, MessageBody="same", MessageGroupId="g")
        attributes = sqs.get_queue_attributes(QueueUrl=fifo, AttributeNames=["All"])["Attributes"]
        assert attributes["ApproximateNumberOfMessages"] == "1" and attributes["ContentBasedDeduplication"] == "true"
        got = sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10)["Messages"]
        assert [m["Body"] for m in got] == ["same"]


def _streamed_table(client, name, view):
    """A table keyed by pk with a stream of `view`; its stream's ARN."""
    return client.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
    )["TableDescription"]["LatestStreamArn"]  # fmt: skip


def _stream_keys(streams, arn):
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    return [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"], r["dynamodb"]["SequenceNumber"]) for r in records]


@pytest.fixture
def moto_server():
    """moto over HTTP, as the local stack runs it (moto 5.2.5's in-process mock answers no DynamoDB Streams call)."""
    from moto.server import ThreadedMotoServer

    patch_moto()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_a_cancelled_transaction_leaves_no_record_in_the_tables_stream(moto_server):
    client, streams = aws_client("dynamodb", moto_server), aws_client("dynamodbstreams", moto_server)
    arn = _streamed_table(client, "streamed", "NEW_AND_OLD_IMAGES")
    client.put_item(TableName="streamed", Item={"pk": {"S": "a"}})
    before = _stream_keys(streams, arn)
    with pytest.raises(ClientError):
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": "streamed", "Item": {"pk": {"S": "rolled-back"}}}},
            {"Delete": {"TableName": "streamed", "Key": {"pk": {"S": "a"}}}},
            {"ConditionCheck": {"TableName": "streamed", "Key": {"pk": {"S": "absent"}},
                                "ConditionExpression": "attribute_exists(pk)"}},
        ])  # fmt: skip
    assert _stream_keys(streams, arn) == before == [("INSERT", "a", before[0][2])]
    client.transact_write_items(TransactItems=[{"Put": {"TableName": "streamed", "Item": {"pk": {"S": "b"}}}}])
    after = _stream_keys(streams, arn)
    assert [(name, key) for name, key, _ in after] == [("INSERT", "a"), ("INSERT", "b")]
    assert int(after[1][2]) == int(after[0][2]) + 1  # the next write takes the sequence number given back


def test_stream_iterators_are_forgotten_once_expired(moto_server, monkeypatch):
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    from npsloop_local import moto_server as patches

    client, streams = aws_client("dynamodb", moto_server), aws_client("dynamodbstreams", moto_server)
    arn = _streamed_table(client, "iterated", "KEYS_ONLY")
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
    held = dynamodbstreams_backends["123456789012"]["eu-central-1"].shard_iterators
    for _ in range(20):
        iterator = streams.get_records(ShardIterator=iterator)["NextShardIterator"]
    grown = len(held)
    monkeypatch.setattr(patches, "ITERATOR_LIFETIME_S", -1)
    client.put_item(TableName="iterated", Item={"pk": {"S": "a"}})
    got = streams.get_records(ShardIterator=iterator)
    assert [r["dynamodb"]["Keys"] for r in got["Records"]] == [{"pk": {"S": "a"}}]
    assert grown >= 20 and len(held) < grown


def test_an_index_query_sees_every_write_at_once_and_only_its_key():
    patch_moto()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-central-1")
        client.create_table(
            TableName="indexed", BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("id", "acct", "at")],
            GlobalSecondaryIndexes=[{"IndexName": "ByAcct", "Projection": {"ProjectionType": "ALL"}, "KeySchema": [
                {"AttributeName": "acct", "KeyType": "HASH"}, {"AttributeName": "at", "KeyType": "RANGE"}]}],
        )  # fmt: skip

        def ids(acct):
            items = client.query(TableName="indexed", IndexName="ByAcct", KeyConditionExpression="acct = :a",
                                 ExpressionAttributeValues={":a": {"S": acct}})["Items"]  # fmt: skip
            return [i["id"]["S"] for i in items]

        for n, acct in enumerate(("A", "B", "A")):
            client.put_item(TableName="indexed", Item={"id": {"S": f"r{n}"}, "acct": {"S": acct}, "at": {"S": f"{n}"}})
        client.put_item(TableName="indexed", Item={"id": {"S": "none"}, "at": {"S": "9"}})  # not in the index
        assert (ids("A"), ids("B"), ids("C")) == (["r0", "r2"], ["r1"], [])
        client.update_item(TableName="indexed", Key={"id": {"S": "r0"}}, UpdateExpression="SET acct = :b",
                           ExpressionAttributeValues={":b": {"S": "B"}})  # fmt: skip
        assert (ids("A"), ids("B")) == (["r2"], ["r0", "r1"])
        client.delete_item(TableName="indexed", Key={"id": {"S": "r2"}})
        client.transact_write_items(TransactItems=[{"Update": {
            "TableName": "indexed", "Key": {"id": {"S": "none"}}, "UpdateExpression": "SET acct = :a",
            "ExpressionAttributeValues": {":a": {"S": "A"}}}}])  # fmt: skip
        assert (ids("A"), ids("B")) == (["none"], ["r0", "r1"])
