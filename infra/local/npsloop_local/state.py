"""`--state-dir`: keep tables, archive objects and queued messages between runs of the local stack."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from npsloop_local.resources import aws_client
from npsloop_local.template import Physical, Template

STATE_FILE = "aws-state.json"


def save(directory: Path, template: Template, names: Physical, endpoint: str) -> None:
    ddb, s3, sqs = aws_client("dynamodb", endpoint), aws_client("s3", endpoint), aws_client("sqs", endpoint)
    state: dict[str, Any] = {"tables": {}, "buckets": {}, "queues": {}}
    for logical in template.of_type("AWS::DynamoDB::Table"):
        items = []
        for page in ddb.get_paginator("scan").paginate(TableName=names.refs[logical]):
            items.extend(page["Items"])
        state["tables"][logical] = items
    for logical in template.of_type("AWS::S3::Bucket"):
        objects = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=names.refs[logical]):
            for entry in page.get("Contents", []):
                body = s3.get_object(Bucket=names.refs[logical], Key=entry["Key"])["Body"].read()
                tags = s3.get_object_tagging(Bucket=names.refs[logical], Key=entry["Key"])["TagSet"]
                objects.append({"key": entry["Key"], "body": base64.b64encode(body).decode(), "tags": tags})
        state["buckets"][logical] = objects
    for logical in template.of_type("AWS::SQS::Queue"):
        messages = []
        while got := sqs.receive_message(QueueUrl=names.refs[logical], MaxNumberOfMessages=10, VisibilityTimeout=60,
                                         MessageAttributeNames=["All"]).get("Messages"):  # fmt: skip
            messages.extend({"body": m["Body"], "attributes": m.get("MessageAttributes", {})} for m in got)
        state["queues"][logical] = messages
    directory.mkdir(parents=True, exist_ok=True)
    (directory / STATE_FILE).write_text(json.dumps(state))


def load(directory: Path, names: Physical, endpoint: str) -> bool:
    """Put back what `save` kept; True when there was something to put back."""
    path = directory / STATE_FILE
    if not path.exists():
        return False
    state = json.loads(path.read_text())
    ddb, s3, sqs = aws_client("dynamodb", endpoint), aws_client("s3", endpoint), aws_client("sqs", endpoint)
    for logical, items in state["tables"].items():
        for item in items:
            ddb.put_item(TableName=names.refs[logical], Item=item)
    for logical, objects in state["buckets"].items():
        for obj in objects:
            s3.put_object(Bucket=names.refs[logical], Key=obj["key"], Body=base64.b64decode(obj["body"]))
            if obj["tags"]:
                s3.put_object_tagging(Bucket=names.refs[logical], Key=obj["key"], Tagging={"TagSet": obj["tags"]})
    for logical, messages in state["queues"].items():
        for message in messages:
            sqs.send_message(QueueUrl=names.refs[logical], MessageBody=message["body"],
                             MessageAttributes=message["attributes"])  # fmt: skip
    return True
