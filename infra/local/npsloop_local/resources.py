"""Create every resource template.yaml declares in the moto server, and name them for the functions' environment."""

from __future__ import annotations

import json
from secrets import token_urlsafe
from typing import Any

import boto3

from npsloop_local.template import ACCOUNT, REGION, STACK, Physical, Template

MAPPING_PARAMETER = "MappingParameter"


def aws_client(service: str, endpoint: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing")  # noqa: S106 (moto's dummy keys)  # fmt: skip


def physical_name(logical_id: str) -> str:
    return f"{STACK}-{logical_id}".lower()


def create_all(template: Template, endpoint: str, secret_value: dict[str, Any], mapping: str | None = None) -> Physical:
    """Tables (with their streams), bucket, the archive's delivery streams, queues (DLQs first), bus, rules with their
    queue targets, the secret with its value, and the SSM parameters (the field mapping document gets `mapping` when
    given)."""
    names = Physical(parameters=dict(template.parameters))
    ddb, s3, sqs = aws_client("dynamodb", endpoint), aws_client("s3", endpoint), aws_client("sqs", endpoint)
    events, secrets = aws_client("events", endpoint), aws_client("secretsmanager", endpoint)

    for logical, props in template.of_type("AWS::DynamoDB::Table").items():
        name = physical_name(logical)
        extra = {k: props[k] for k in ("GlobalSecondaryIndexes",) if k in props}
        if "StreamSpecification" in props:  # CloudFormation names the view type only; the API wants it enabled too
            extra["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        table = ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", KeySchema=props["KeySchema"],
                                 AttributeDefinitions=props["AttributeDefinitions"], **extra)  # fmt: skip
        names.refs[logical] = name
        names.arns[logical] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
        if "LatestStreamArn" in table["TableDescription"]:
            names.stream_arns[logical] = table["TableDescription"]["LatestStreamArn"]

    for logical, props in template.of_type("AWS::S3::Bucket").items():
        name = physical_name(logical)
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        if props.get("VersioningConfiguration", {}).get("Status") == "Enabled":
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        rules = props.get("LifecycleConfiguration", {}).get("Rules", [])
        if rules:
            s3.put_bucket_lifecycle_configuration(
                Bucket=name, LifecycleConfiguration={"Rules": [_lifecycle(names.resolve(r)) for r in rules]}
            )
        names.refs[logical] = name
        names.arns[logical] = f"arn:aws:s3:::{name}"

    for logical in template.of_type("AWS::IAM::Role"):  # named for what refers to them; moto's services check none
        names.arns[logical] = f"arn:aws:iam::{ACCOUNT}:role/{physical_name(logical)}"
    firehose = aws_client("firehose", endpoint)
    for logical, props in template.of_type("AWS::KinesisFirehose::DeliveryStream").items():
        # moto writes each record to the bucket as one object at once (no buffering): archived is readable at once
        name = physical_name(logical)
        config = names.resolve(props["ExtendedS3DestinationConfiguration"])
        firehose.create_delivery_stream(DeliveryStreamName=name, DeliveryStreamType=props["DeliveryStreamType"],
                                        ExtendedS3DestinationConfiguration=config)  # fmt: skip
        names.refs[logical] = name
        names.arns[logical] = firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"][
            "DeliveryStreamARN"]  # fmt: skip

    queues = template.of_type("AWS::SQS::Queue")
    for logical in sorted(queues, key=lambda q: "RedrivePolicy" in queues[q]):  # DLQs first
        props = queues[logical]
        attributes = {"VisibilityTimeout": str(props.get("VisibilityTimeout", 30))}
        if "MessageRetentionPeriod" in props:
            attributes["MessageRetentionPeriod"] = str(props["MessageRetentionPeriod"])
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(names.resolve(props["RedrivePolicy"]))
        url = sqs.create_queue(QueueName=physical_name(logical), Attributes=attributes)["QueueUrl"]
        names.refs[logical] = url
        names.arns[logical] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]

    for logical, props in template.of_type("AWS::Events::EventBus").items():
        names.refs[logical] = props["Name"]
        names.arns[logical] = events.create_event_bus(Name=props["Name"])["EventBusArn"]

    for logical, props in template.of_type("AWS::Events::Rule").items():
        bus = names.resolve(props["EventBusName"])
        rule = physical_name(logical)
        arn = events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps(props["EventPattern"]))["RuleArn"]
        targets = [{"Id": t["Id"], "Arn": names.resolve(t["Arn"])} for t in props.get("Targets", [])]
        events.put_targets(Rule=rule, EventBusName=bus, Targets=targets)
        names.refs[logical], names.arns[logical] = rule, arn

    sns = aws_client("sns", endpoint)
    for logical in template.of_type("AWS::SNS::Topic"):
        arn = sns.create_topic(Name=physical_name(logical))["TopicArn"]
        names.refs[logical] = names.arns[logical] = arn
    for logical, props in template.of_type("AWS::SNS::Subscription").items():
        names.refs[logical] = sns.subscribe(TopicArn=names.resolve(props["TopicArn"]), Protocol=props["Protocol"],
                                            Endpoint=names.resolve(props["Endpoint"]))["SubscriptionArn"]  # fmt: skip

    ses = aws_client("ses", endpoint)
    for logical in template.of_type("AWS::SES::ConfigurationSet"):
        ses.create_configuration_set(ConfigurationSet={"Name": physical_name(logical)})
        names.refs[logical] = physical_name(logical)
    # The HTTP API is served by the local stack itself; functions get its real URL as an override (stack.py).
    names.refs["HttpApi"] = "local"

    ssm = aws_client("ssm", endpoint)
    for logical, props in template.of_type("AWS::SSM::Parameter").items():
        name = names.resolve(props.get("Name")) or physical_name(logical)
        value = mapping if logical == MAPPING_PARAMETER and mapping is not None else names.resolve(props["Value"])
        ssm.put_parameter(Name=name, Value=value, Type=props.get("Type", "String"), Overwrite=True)
        names.refs[logical] = name
        names.arns[logical] = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{name.lstrip('/')}"

    for logical, props in template.of_type("AWS::SecretsManager::Secret").items():
        # the app secret holds the local value; a secret the template only generates gets a fresh random one
        generated = props.get("GenerateSecretString", {})
        value = json.dumps(secret_value) if "SecretStringTemplate" in generated else token_urlsafe(48)
        arn = secrets.create_secret(Name=physical_name(logical), SecretString=value)["ARN"]
        names.refs[logical] = names.arns[logical] = arn
    return names


def _lifecycle(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule in the S3 API's shape."""
    out: dict[str, Any] = {"ID": rule["Id"], "Status": rule["Status"], "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "ExpirationInDays" in rule:
        out["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "NoncurrentVersionExpiration" in rule:
        days = int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])
        out["NoncurrentVersionExpiration"] = {"NoncurrentDays": days}
    return out
