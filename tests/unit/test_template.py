"""template.yaml: cfn-lint clean, and the offline SAM transform wires what DESIGN.md draws."""

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]


class NoNetworkPolicyLoader:
    """The real loader calls iam:ListPolicies; the template names no managed policy, so nothing is needed."""

    def load(self):
        return {}


@pytest.fixture(scope="module")
def cfn(monkeypatch_module):
    sam = yaml_parse((ROOT / "template.yaml").read_text())
    for resource in sam["Resources"].values():
        prop = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}.get(
            resource["Type"]
        )
        if prop and isinstance(resource["Properties"].get(prop), str):
            resource["Properties"][prop] = "s3://offline-placeholder/" + resource["Properties"][prop].strip("/")
    if isinstance(sam.get("Globals", {}).get("Function", {}).get("CodeUri"), str):
        sam["Globals"]["Function"]["CodeUri"] = "s3://offline-placeholder/functions"
    return transform(sam, {}, NoNetworkPolicyLoader())["Resources"]


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_DEFAULT_REGION", "eu-central-1")
        yield mp


def of_type(resources, kind):
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def test_cfn_lint_is_clean():
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    done = subprocess.run([str(cfn_lint), str(ROOT / "template.yaml")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_route_has_its_function_and_the_resolver_serves_exactly_those_routes(cfn):
    routes_by_function: dict[str, set[str]] = {}
    principals = {perm["Properties"]["FunctionName"]["Ref"]: perm["Properties"]["Principal"]
                  for perm in of_type(cfn, "AWS::Lambda::Permission").values()}  # fmt: skip
    assert {fn for fn, principal in principals.items() if principal != "apigateway.amazonaws.com"} == {
        "RemindSurveysFunction"}  # its schedule (test_the_reminder_schedule_is_hourly_and_reads_a_sparse_index)
    api = next(iter(of_type(cfn, "AWS::ApiGatewayV2::Api").values()))
    for path, methods in api["Properties"]["Body"]["paths"].items():
        for method, spec in methods.items():
            uri = spec["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
            function = next(part.split(".Arn")[0] for part in uri.split("${") if ".Arn}" in part)
            assert function in cfn, f"{method.upper()} {path} points at a missing function"
            routes_by_function.setdefault(function, set()).add(f"{method.upper()} {path}")
    assert routes_by_function == {
        "IngestWebhookFunction": {"POST /webhooks/{source}", "HEAD /webhooks/{source}", "GET /webhooks/{source}"},
        "HooksApiFunction": {"POST /hooks", "DELETE /hooks/{hook_id}", "GET /me", "GET /responses"},
        "UnsubscribeFunction": {"GET /unsubscribe", "POST /unsubscribe", "GET /unsubscribe/{token}",
                                "POST /unsubscribe/{token}"},
        "ReportsApiFunction": {"GET /nps", "GET /responses.csv", "GET /dashboard", "POST /dashboard"},
        "SurveysApiFunction": {"POST /surveys/send", "POST /salesforce/outbound/{touchpoint}"},
        "AnswerSurveyFunction": {"GET /r/{token}", "HEAD /r/{token}", "POST /r/{token}"},
    }
    for function, routes in routes_by_function.items():
        handler = cfn[function]["Properties"]["Handler"]
        module = importlib.import_module(handler.rsplit(".", 1)[0])
        served = {f"{r.method} {r.openapi_path}" for r in module.app._static_routes + module.app._dynamic_routes}
        assert served == routes, f"{handler}'s resolver serves {served}, the template routes {routes}"


def test_api_is_throttled(cfn):
    stage = next(iter(of_type(cfn, "AWS::ApiGatewayV2::Stage").values()))
    settings = stage["Properties"]["DefaultRouteSettings"]
    assert settings["ThrottlingRateLimit"] and settings["ThrottlingBurstLimit"]


def test_every_consumer_queue_has_a_dlq_and_every_sqs_source_reports_item_failures(cfn):
    queues = of_type(cfn, "AWS::SQS::Queue")
    mappings = of_type(cfn, "AWS::Lambda::EventSourceMapping")
    assert len(mappings) == 8
    for mapping in mappings.values():
        props = mapping["Properties"]
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        queue = props["EventSourceArn"]["Fn::GetAtt"][0]
        if queue == "ResponsesTable":  # compute_score reads the table's stream: retried, never skipped
            assert props["EventSourceArn"]["Fn::GetAtt"][1] == "StreamArn" and props["MaximumRetryAttempts"] == -1
            assert props["BisectBatchOnFunctionError"] is False and props["StartingPosition"] == "TRIM_HORIZON"
            continue
        redrive = queues[queue]["Properties"]["RedrivePolicy"]
        dlq = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert dlq in queues and "RedrivePolicy" not in queues[dlq]["Properties"]
    rule_targets = {
        t["Arn"]["Fn::GetAtt"][0]
        for r in of_type(cfn, "AWS::Events::Rule").values()
        for t in r["Properties"]["Targets"]
        if "ScheduleExpression" not in r["Properties"]  # the hourly reminder run targets its function
    }
    consumer_queues = {q for q, r in queues.items() if "RedrivePolicy" in r["Properties"]}
    # fed by a rule, by notify's fan-out (deliveries), by ingest (ids to fetch), by the surveys API and the reminder
    # run (invitations, reminders), by the answer pages (held clicks), or by SES through SNS
    subscriptions = of_type(cfn, "AWS::SNS::Subscription").values()
    sns_fed = {
        s["Properties"]["Endpoint"]["Fn::GetAtt"][0] for s in subscriptions if s["Properties"]["Protocol"] == "sqs"
    }
    assert rule_targets | {"DeliveriesQueue", "FetchQueue", "SurveyQueue", "ClickQueue"} | sns_fed == consumer_queues
    fetch_retries = queues["FetchQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"]
    assert fetch_retries == {"Ref": "FetchMaxReceiveCount"}


def test_ids_only_deliveries_are_queued_and_fetched_with_least_privilege(cfn):
    ingest = cfn["IngestWebhookFunction"]["Properties"]["Environment"]["Variables"]
    fetch = cfn["FetchResponseFunction"]["Properties"]["Environment"]["Variables"]
    assert ingest["FETCH_QUEUE_URL"] == fetch["FETCH_QUEUE_URL"] == {"Ref": "FetchQueue"}
    assert ingest["MAPPING_PARAMETER"] == fetch["MAPPING_PARAMETER"] == {"Ref": "MappingParameter"}
    statements = [
        s
        for policy in cfn["FetchResponseFunctionRole"]["Properties"]["Policies"]
        for s in policy["PolicyDocument"]["Statement"]
    ]
    actions = {a for s in statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert "sqs:ChangeMessageVisibility" in actions and "s3:PutObject" not in actions
    parameter = cfn["MappingParameter"]["Properties"]
    assert parameter["Value"] == "{}" and parameter["Name"] == {"Fn::Sub": "/${AWS::StackName}/field-mapping"}


def test_functions_run_python312_on_the_layer_with_the_architecture_parameter(cfn):
    functions = of_type(cfn, "AWS::Lambda::Function")
    assert len(functions) == 15
    for fn in functions.values():
        props = fn["Properties"]
        assert props["Runtime"] == "python3.12"
        assert props["Architectures"] == [{"Ref": "Architecture"}]
        assert props["Layers"] == [{"Ref": "SharedLayer"}] or "SharedLayer" in str(props["Layers"])
        assert props["Handler"].count(".") == 2  # module path with dots: <folder>.handler.lambda_handler


NO_RESOURCE_LEVEL_PERMISSIONS = {"comprehend:BatchDetectSentiment"}  # IAM allows only "*" as their resource


def statements(policy):
    """A policy's statements, both branches of a conditional (Fn::If) statement included."""
    for statement in policy["PolicyDocument"]["Statement"]:
        if "Fn::If" in statement:
            yield from (branch for branch in statement["Fn::If"][1:] if "Action" in branch)
        else:
            yield statement


def test_function_policies_are_least_privilege(cfn):
    for name, role in of_type(cfn, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in statements(policy):
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert not any("*" in a for a in actions), f"{name}: wildcard action {actions}"
                if not set(actions) <= NO_RESOURCE_LEVEL_PERMISSIONS:
                    assert statement["Resource"] != "*", f"{name}: wildcard resource"


def test_comprehend_is_allowed_only_when_sentiment_analysis_is_enabled(cfn):
    role = cfn["ComputeScoreFunctionRole"]["Properties"]
    conditional = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"] if "Fn::If" in s]
    assert conditional and conditional[0]["Fn::If"][0] == "SentimentWithComprehend"
    assert conditional[0]["Fn::If"][2] == {"Ref": "AWS::NoValue"}


def test_archive_bucket_is_versioned_encrypted_private_and_expires_unauthenticated_deliveries(cfn):
    bucket = next(iter(of_type(cfn, "AWS::S3::Bucket").values()))["Properties"]
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    rules = {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}
    from npsloop.stores.archive import UNAUTHENTICATED_PREFIX

    assert rules["expire-unauthenticated-deliveries"]["Prefix"] == UNAUTHENTICATED_PREFIX
    assert rules["expire-unauthenticated-deliveries"]["ExpirationInDays"] == 7
    assert rules["expire-noncurrent-versions"]["NoncurrentVersionExpiration"]["NoncurrentDays"] > 0
    from npsloop.stores.archive import ACCEPTED_PREFIX

    raw = rules["expire-raw-deliveries"]
    assert raw["Prefix"] == ACCEPTED_PREFIX and raw["ExpirationInDays"] == {"Ref": "RawRetentionDays"}
    assert raw["NoncurrentVersionExpiration"]["NoncurrentDays"] == 1
    assert yaml_parse((ROOT / "template.yaml").read_text())["Parameters"]["RawRetentionDays"]["Default"] == 400


def test_every_dlq_and_the_sync_have_an_alarm_that_notifies_the_topic(cfn):
    queues = of_type(cfn, "AWS::SQS::Queue")
    dlqs = {q for q, r in queues.items() if "RedrivePolicy" not in r["Properties"]}
    alarms = of_type(cfn, "AWS::CloudWatch::Alarm").values()
    watched = {
        d["Value"]["Fn::GetAtt"][0] for a in alarms for d in a["Properties"]["Dimensions"] if d["Name"] == "QueueName"
    }
    assert watched == dlqs
    assert any(
        d["Name"] == "FunctionName" and d["Value"] == {"Ref": "SyncSalesforceFunction"}
        for a in alarms
        for d in a["Properties"]["Dimensions"]
    )
    assert all(a["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms)
    emails = [s for s in of_type(cfn, "AWS::SNS::Subscription").values() if s["Properties"]["Protocol"] == "email"]
    assert [s["Properties"]["Endpoint"] for s in emails] == [{"Ref": "AlarmEmail"}]


def test_the_raw_archive_goes_through_firehose_with_least_privilege(cfn):
    from npsloop.stores.archive import ACCEPTED_PREFIX, UNAUTHENTICATED_PREFIX

    streams = of_type(cfn, "AWS::KinesisFirehose::DeliveryStream")
    destinations = {name: s["Properties"]["ExtendedS3DestinationConfiguration"] for name, s in streams.items()}
    assert {d["Prefix"] for d in destinations.values()} == {ACCEPTED_PREFIX, UNAUTHENTICATED_PREFIX}  # lifecycle
    assert destinations["ArchiveStream"]["Prefix"] == ACCEPTED_PREFIX
    for d in destinations.values():
        assert d["BucketARN"] == {"Fn::GetAtt": ["ArchiveBucket", "Arn"]}  # the versioned, encrypted bucket
        assert d["RoleARN"] == {"Fn::GetAtt": ["ArchiveDeliveryRole", "Arn"]}
        assert 60 <= d["BufferingHints"]["IntervalInSeconds"] <= 900 and d["BufferingHints"]["SizeInMBs"] <= 64
    role = cfn["ArchiveDeliveryRole"]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "firehose.amazonaws.com"}
    for statement in statements(role["Policies"][0]):
        assert all(a.startswith("s3:") for a in statement["Action"])
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        assert all("ArchiveBucket" in json.dumps(r) for r in resources)
    writers = {"IngestWebhookFunction": 2, "FetchResponseFunction": 1, "AnswerSurveyFunction": 2,
               "RecordClickFunction": 2}  # fmt: skip
    for function, count in writers.items():
        policy = [s for p in cfn[f"{function}Role"]["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]
        (put,) = [s for s in policy if "firehose" in json.dumps(s["Action"])]
        assert put["Action"] == "firehose:PutRecord"
        resources = put["Resource"] if isinstance(put["Resource"], list) else [put["Resource"]]
        assert len(resources) == count and all(r["Fn::GetAtt"][1] == "Arn" and r["Fn::GetAtt"][0] in streams
                                               for r in resources)  # fmt: skip
        assert not [s for s in policy if "s3:" in json.dumps(s["Action"])]  # writers no longer touch the bucket


def test_the_reminder_schedule_is_hourly_and_reads_a_sparse_index(cfn):
    [rule] = [r for r in of_type(cfn, "AWS::Events::Rule").values() if "ScheduleExpression" in r["Properties"]]
    assert rule["Properties"]["ScheduleExpression"] == "rate(1 hour)"
    assert rule["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": ["RemindSurveysFunction", "Arn"]}
    [index] = cfn["NotifyTable"]["Properties"]["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "RemindersDue"
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["reminder_day", "reminder_at"]
    env = cfn["SendSurveyFunction"]["Properties"]["Environment"]["Variables"]
    assert env["SURVEY_REMINDER_DAYS"] == {"Ref": "SurveyReminderDays"}


def test_functions_log_json_at_the_log_level_without_lambdas_own_lines(cfn):
    """Lambda's START/END/REPORT lines would add about 250 bytes of CloudWatch Logs per invocation (one per response
    for the webhook): SystemLogLevel WARN keeps them out; the functions' own level is the LogLevel parameter."""
    for fn in of_type(cfn, "AWS::Lambda::Function").values():
        assert fn["Properties"]["LoggingConfig"] == {"LogFormat": "JSON", "ApplicationLogLevel": {"Ref": "LogLevel"},
                                                     "SystemLogLevel": "WARN"}  # fmt: skip


def test_the_local_stack_gives_each_function_the_log_level_lambda_would():
    from npsloop_local.stack import LocalStack, StackOptions
    from npsloop_local.template import Physical, Template

    stack = LocalStack(StackOptions(port=0, salesforce_port=0, aws_port=0))  # not started: no resources
    stack.names = Physical(parameters={"LogLevel": "DEBUG"})
    fn = Template().functions()[0]
    fn.environment = {}
    env = stack.function_environment(fn)
    assert (env["AWS_LAMBDA_LOG_FORMAT"], env["AWS_LAMBDA_LOG_LEVEL"]) == ("JSON", "DEBUG")
    assert not fn.platform_logs
