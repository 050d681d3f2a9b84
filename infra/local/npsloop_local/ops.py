"""Where an operating command acts: the local stack's moto (the default) or a deployed CloudFormation stack."""

from __future__ import annotations

import argparse
import json
import os
from functools import cache
from typing import Any

import boto3

from npsloop_local.resources import aws_client, physical_name
from npsloop_local.template import Template

LOCAL_AWS_URL = "http://127.0.0.1:3002"


class TargetError(Exception):
    """The stack or one of its resources cannot be found; the message says which."""


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--stack", help="a deployed CloudFormation stack (credentials and region from the environment)")
    where.add_argument("--aws-url", default=os.environ.get("NPSLOOP_AWS_URL", LOCAL_AWS_URL),
                       help=f"the local stack's moto server (default {LOCAL_AWS_URL})")  # fmt: skip


class Target:
    def __init__(self, *, stack: str | None = None, aws_url: str | None = None):
        self.stack, self.aws_url = stack, aws_url
        self.template = Template()

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Target:
        return cls(stack=args.stack) if args.stack else cls(aws_url=args.aws_url)

    @property
    def local(self) -> bool:
        return self.stack is None

    def client(self, service: str) -> Any:
        return aws_client(service, self.aws_url) if self.local else _deployed_client(service)

    def physical(self, logical_id: str) -> str:
        """What !Ref gives for a resource: table or bucket name, queue URL, secret ARN, bus name."""
        if logical_id not in self.template.resources:
            raise TargetError(f"template.yaml has no resource {logical_id}")
        if not self.local:
            return self._deployed_resources().get(logical_id) or _missing(logical_id, self.stack)
        kind = self.template.resources[logical_id]["Type"]
        name = physical_name(logical_id)
        try:
            if kind == "AWS::SQS::Queue":
                return self.client("sqs").get_queue_url(QueueName=name)["QueueUrl"]
            if kind == "AWS::SecretsManager::Secret":
                return self.client("secretsmanager").describe_secret(SecretId=name)["ARN"]
        except Exception as exc:
            raise TargetError(
                f"{logical_id} not found at {self.aws_url}: is `npsloop local` running? ({exc})"
            ) from None
        if kind == "AWS::Events::EventBus":
            return self.template.resources[logical_id]["Properties"]["Name"]
        if kind == "AWS::SSM::Parameter" and "Name" in self.template.resources[logical_id]["Properties"]:
            from npsloop_local.template import Physical

            return Physical().resolve(self.template.resources[logical_id]["Properties"]["Name"])
        return name

    def queue_arn(self, logical_id: str) -> str:
        sqs = self.client("sqs")
        attrs = sqs.get_queue_attributes(QueueUrl=self.physical(logical_id), AttributeNames=["QueueArn"])
        return attrs["Attributes"]["QueueArn"]

    def secret(self) -> dict[str, Any]:
        value = self.client("secretsmanager").get_secret_value(SecretId=self.physical("AppSecret"))["SecretString"]
        return json.loads(value)

    @cache  # noqa: B019 (one Target per command run)
    def _deployed_resources(self) -> dict[str, str]:
        cfn = self.client("cloudformation")
        try:
            pages = cfn.get_paginator("list_stack_resources").paginate(StackName=self.stack)
            return {r["LogicalResourceId"]: r["PhysicalResourceId"] for p in pages for r in p["StackResourceSummaries"]}
        except Exception as exc:
            raise TargetError(f"stack {self.stack}: {exc}") from None


def _deployed_client(service: str) -> Any:
    return boto3.client(service)


def _missing(logical_id: str, stack: str | None) -> str:
    raise TargetError(f"stack {stack} has no resource {logical_id}")
