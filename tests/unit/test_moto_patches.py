"""The local stack's moto changes keep moto's behaviour: a cancelled transaction leaves every item as it was."""

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from npsloop_local.moto_server import patch_moto


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
