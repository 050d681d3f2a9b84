"""`npsloop local` with a table stream wired to a function: template → moto's stream → poller → worker process."""

import json
import time

from samtranslator.yaml_helper import yaml_parse

from npsloop_local.pollers import StreamPoller
from npsloop_local.resources import aws_client
from npsloop_local.stack import LocalStack, StackOptions
from npsloop_local.template import TEMPLATE, Template

PROBE = "StreamProbeFunction"


def streamed_template(directory):
    """template.yaml with one more function the Responses table's stream triggers (besides compute_score). Its
    handler is `builtins.print`: its worker prints each event it is given into the stack log, where the test reads
    it."""
    doc = yaml_parse(TEMPLATE.read_text())
    doc["Resources"][PROBE] = {"Type": "AWS::Serverless::Function", "Properties": {
        "Handler": "builtins.print", "Timeout": 10, "Events": {"Changes": {"Type": "DynamoDB", "Properties": {
            "Stream": {"Fn::GetAtt": ["ResponsesTable", "StreamArn"]}, "StartingPosition": "TRIM_HORIZON",
            "BatchSize": 10, "FunctionResponseTypes": ["ReportBatchItemFailures"]}}}}}  # fmt: skip
    path = directory / "template.json"  # JSON is YAML: the template reader takes it as it is
    path.write_text(json.dumps(doc))
    return Template(path)


def run(directory, log_path, key):
    """Start the stack on `directory` as its --state-dir, write one response, wait for the probe's event, stop."""
    with log_path.open("w") as log:
        stack = LocalStack(StackOptions(port=0, salesforce_port=0, aws_port=0, state_dir=directory / "state",
                                        log=log), streamed_template(directory))  # fmt: skip
        stack.start()
        try:
            aws_client("dynamodb", stack.aws_url).put_item(
                TableName=stack.names.refs["ResponsesTable"], Item={"response_id": {"S": key}, "score": {"N": "9"}}
            )
            (poller,) = [p for p in stack.pollers if isinstance(p, StreamPoller) and p.name == PROBE]
            deadline = time.monotonic() + 60
            while not (poller.caught_up and key in log_path.read_text()):
                assert time.monotonic() < deadline, "the probe was not given the write"
                time.sleep(0.2)
            return poller, log_path.read_text(), stack.names.stream_arns["ResponsesTable"]
        finally:
            stack.stop()


def test_a_write_to_a_streamed_table_reaches_its_function_and_a_restart_does_not_replay_it(tmp_path):
    poller, log, arn = run(tmp_path, tmp_path / "first.log", "stream-probe-a")
    assert (poller.name, poller.source.table, poller.arn) == (PROBE, "ResponsesTable", arn)
    assert (poller.records, poller.failed_batches) == (1, 0)
    assert "'eventSource': 'aws:dynamodb'" in log and "'eventName': 'INSERT'" in log
    assert f"'eventSourceARN': '{arn}'" in log and "'NewImage': {" in log

    poller, log, _ = run(tmp_path, tmp_path / "second.log", "stream-probe-b")  # the state dir brings a back
    assert poller.records == 1 and "stream-probe-a" not in log  # restored, not a change: LATEST, not TRIM_HORIZON
