"""The local stack's reading of `Type: DynamoDB` event sources: Lambda's defaults, parameters, and what it refuses."""

import re

import pytest

from npsloop_local.template import Physical, StreamSource
from tests.streams import streamed_template


def parse(tmp_path, properties="StartingPosition: TRIM_HORIZON", stream=""):
    return streamed_template(tmp_path, properties.split("\n"), stream=stream)


def test_a_dynamodb_event_takes_lambdas_defaults(tmp_path):
    (fn,) = parse(tmp_path).functions()
    assert fn.streams == [StreamSource("ResponsesTable", "TRIM_HORIZON", 100, 0, False, -1, False)]
    assert fn.queues == [] and fn.routes == []


def test_every_setting_is_read_parameters_included(tmp_path):
    settings = ["StartingPosition: LATEST", "BatchSize: !Ref ScoreBatchSize", "MaximumBatchingWindowInSeconds: 2",
                "FunctionResponseTypes: [ReportBatchItemFailures]", "MaximumRetryAttempts: 5",
                "BisectBatchOnFunctionError: true", "ParallelizationFactor: 1"]  # fmt: skip
    template = parse(tmp_path, "\n".join(settings))
    template.parameters["ScoreBatchSize"] = "40"  # as `npsloop local --parameter ScoreBatchSize=40` sets it
    (fn,) = template.functions()
    assert fn.streams == [StreamSource("ResponsesTable", "LATEST", 40, 2, True, 5, True)]


def test_a_disabled_event_source_gets_no_poller(tmp_path):
    (fn,) = parse(tmp_path, "StartingPosition: LATEST\nEnabled: false").functions()
    assert fn.streams == []


@pytest.mark.parametrize(
    ("properties", "stream", "says"),
    [
        ("StartingPosition: LATEST\nFilterCriteria: {Filters: [{Pattern: '{}'}]}", None, "FilterCriteria"),
        ("StartingPosition: LATEST\nDestinationConfig: {OnFailure: {Destination: arn}}", None, "DestinationConfig"),
        ("StartingPosition: LATEST\nParallelizationFactor: 2", None, "ParallelizationFactor"),
        ("StartingPosition: LATEST\nMaximumRecordAgeInSeconds: 60", None, "MaximumRecordAgeInSeconds"),
        ("StartingPosition: AT_TIMESTAMP", None, "TRIM_HORIZON or LATEST"),
        ("StartingPosition: LATEST", "arn:aws:dynamodb:eu-central-1:1:table/t/stream/x", "!GetAtt <Table>.StreamArn"),
    ],
)
def test_what_the_local_stack_does_not_emulate_is_refused_by_name(tmp_path, properties, stream, says):
    template = parse(tmp_path, properties, stream)
    with pytest.raises(ValueError, match=re.escape(says)):
        template.functions()


def test_getatt_stream_arn_resolves_to_the_tables_stream():
    names = Physical(stream_arns={"ResponsesTable": "arn:aws:dynamodb:eu-central-1:123456789012:table/t/stream/1"})
    assert names.resolve({"Fn::GetAtt": "ResponsesTable.StreamArn"}) == names.stream_arns["ResponsesTable"]
    with pytest.raises(KeyError, match="not available locally"):
        names.resolve({"Fn::GetAtt": ["OtherTable", "StreamArn"]})
