"""The local stack's DynamoDB stream event source: a StreamPoller reading moto's stream over HTTP, as Lambda would."""

import json
import os
import threading
import time
import uuid

import pytest

from npsloop_local import pollers
from npsloop_local.pollers import StreamPoller
from npsloop_local.resources import aws_client, create_all
from npsloop_local.workers import InvocationError, WorkerPool, WorkerSpec
from tests.streams import streamed_template

PROBE = """
import json, os, time

def lambda_handler(event, context):
    here = os.environ["PROBE_DIR"]
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]
    with open(os.path.join(here, "calls.jsonl"), "a") as calls:
        calls.write(json.dumps(keys) + "\\n")
    for key, action in (("die", lambda: os._exit(1)), ("slow", lambda: time.sleep(30))):
        if key in keys and not os.path.exists(os.path.join(here, key)):
            open(os.path.join(here, key), "w").close()
            action()
    return {"batchItemFailures": []}
"""


class Function:
    """Stands for the function: records every event it is given and answers as `reply` says."""

    def __init__(self, reply=None):
        self.events, self.reply, self.lock = [], reply or (lambda event, call: None), threading.Lock()

    def __call__(self, event):
        json.dumps(event)  # what a worker receives must be JSON, as Lambda's event is
        with self.lock:
            self.events.append(event)
            call = len(self.events)
        return self.reply(event, call)

    def batches(self):
        with self.lock:
            return [[r["dynamodb"]["Keys"]["pk"]["S"] for r in e["Records"]] for e in self.events]


class Stream:
    """A table with a stream, made from a template as the local stack makes it, and pollers started on it."""

    def __init__(self, url, directory):
        self.url, self.directory, self.pollers = url, directory, []
        self.table = f"Stream{uuid.uuid4().hex[:8]}Table"
        self.names = create_all(self.template(), url, {})
        self.ddb = aws_client("dynamodb", url)

    def template(self, position="TRIM_HORIZON", batch=10, window=0, retries=-1, bisect="false"):
        settings = [f"StartingPosition: {position}", f"BatchSize: {batch}", f"MaximumBatchingWindowInSeconds: {window}",
                    "FunctionResponseTypes: [ReportBatchItemFailures]", f"MaximumRetryAttempts: {retries}",
                    f"BisectBatchOnFunctionError: {bisect}"]  # fmt: skip
        return streamed_template(self.directory, settings, table=self.table)

    def start(self, function, **settings):
        (source,) = self.template(**settings).functions()[0].streams
        poller = StreamPoller("ScoreFunction", source, self.names.stream_arns[self.table],
                              aws_client("dynamodbstreams", self.url), function)  # fmt: skip
        poller.start()
        self.pollers.append(poller)
        return poller

    def put(self, *keys, **attrs):
        for key in keys:
            item = {"pk": {"S": key}, **{k: {"S": v} for k, v in attrs.items()}}
            self.ddb.put_item(TableName=self.names.refs[self.table], Item=item)


@pytest.fixture
def stream(moto_url, tmp_path, monkeypatch):
    monkeypatch.setattr(pollers, "RETRY_PAUSE_S", 0.1)
    made = Stream(moto_url, tmp_path)
    yield made
    for poller in made.pollers:
        poller.stop()


def wait_for(condition, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("not within the wait")


def test_the_template_wires_the_table_stream_and_the_event_source(stream):
    names = stream.names
    assert names.stream_arns[stream.table].startswith(names.arns[stream.table] + "/stream/")
    assert names.resolve({"Fn::GetAtt": [stream.table, "StreamArn"]}) == names.stream_arns[stream.table]
    described = stream.ddb.describe_table(TableName=names.refs[stream.table])["Table"]["StreamSpecification"]
    assert described == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_records_arrive_in_order_in_batches_with_lambdas_event_shape_and_both_images(stream):
    stream.put(*[f"k{i}" for i in range(5)], note="first")
    stream.put("k1", note="second")  # MODIFY
    stream.ddb.delete_item(TableName=stream.names.refs[stream.table], Key={"pk": {"S": "k2"}})  # REMOVE
    function = Function()
    poller = stream.start(function, batch=3)
    wait_for(lambda: poller.records == 7)
    wait_for(lambda: poller.caught_up)
    assert all(len(b) <= 3 for b in function.batches())
    records = [r for e in function.events for r in e["Records"]]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["k0", "k1", "k2", "k3", "k4", "k1", "k2"]
    assert [r["eventName"] for r in records] == ["INSERT"] * 5 + ["MODIFY", "REMOVE"]
    sequence = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert sequence == sorted(sequence) and len(set(sequence)) == 7
    modify, remove = records[5], records[6]
    assert set(modify) == {"eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb",
                           "eventSourceARN"}  # fmt: skip
    assert modify["eventSource"] == "aws:dynamodb" and modify["awsRegion"] == "eu-central-1"
    assert modify["eventSourceARN"] == stream.names.stream_arns[stream.table]
    change = modify["dynamodb"]
    assert change["StreamViewType"] == "NEW_AND_OLD_IMAGES" and isinstance(change["SizeBytes"], int)
    assert isinstance(change["ApproximateCreationDateTime"], float) and change["ApproximateCreationDateTime"] > 1.7e9
    assert change["OldImage"]["note"] == {"S": "first"} and change["NewImage"]["note"] == {"S": "second"}
    assert "NewImage" not in remove["dynamodb"] and remove["dynamodb"]["OldImage"]["pk"] == {"S": "k2"}
    assert "OldImage" not in records[0]["dynamodb"] and records[0]["dynamodb"]["NewImage"]["pk"] == {"S": "k0"}


def test_the_poller_is_caught_up_only_when_every_record_written_is_done(stream):
    release = threading.Event()
    function = Function(lambda event, call: release.wait(30))
    poller = stream.start(function)
    wait_for(lambda: poller.caught_up)  # an empty stream read to its end
    stream.put("a")
    wait_for(lambda: len(function.events) == 1)
    assert not poller.caught_up  # its batch is in flight
    release.set()
    wait_for(lambda: poller.caught_up)
    assert poller.records == 1


def test_latest_starts_after_what_the_stream_holds_and_trim_horizon_from_its_start(stream):
    stream.put("before")
    latest, horizon = Function(), Function()
    poller = stream.start(latest, position="LATEST")
    first = stream.start(horizon, position="TRIM_HORIZON")
    stream.put("after")
    wait_for(lambda: poller.records == 1 and first.records == 2)
    assert latest.batches() == [["after"]]
    assert [k for b in horizon.batches() for k in b] == ["before", "after"]


def test_the_batching_window_gathers_records_written_apart_into_one_invocation(stream):
    function = Function()
    poller = stream.start(function, batch=10, window=3)
    for key in ("a", "b", "c"):
        stream.put(key)
        time.sleep(0.3)
    wait_for(lambda: poller.records == 3)
    assert function.batches() == [["a", "b", "c"]]


def test_a_failed_batch_is_retried_as_it_was_until_it_succeeds(stream):
    stream.put(*[f"k{i}" for i in range(5)])

    def reply(event, call):
        if call <= 2:
            raise InvocationError("ScoreFunction's process died")

    function = Function(reply)
    poller = stream.start(function, batch=3)
    wait_for(lambda: poller.records == 5)
    stream.put("k5")
    wait_for(lambda: poller.records == 6)
    assert function.batches() == [["k0", "k1", "k2"]] * 3 + [["k3", "k4"], ["k5"]]
    assert [e["Records"] for e in function.events[:3]] == [function.events[0]["Records"]] * 3  # same records
    assert (poller.failed_batches, poller.batches, poller.skipped) == (2, 5, 0)


def test_a_reported_item_failure_retries_from_that_record_and_counts_the_ones_before_done(stream):
    stream.put(*[f"k{i}" for i in range(6)])

    def reply(event, call):
        seq = {r["dynamodb"]["Keys"]["pk"]["S"]: r["dynamodb"]["SequenceNumber"] for r in event["Records"]}
        if call == 1:  # two failures reported: the lower sequence number is where the retry starts
            return {"batchItemFailures": [{"itemIdentifier": seq["k3"]}, {"itemIdentifier": seq["k2"]}]}
        if call == 2:
            return {"batchItemFailures": [{"itemIdentifier": "not-a-sequence-number"}]}  # the whole batch failed
        return {"batchItemFailures": []}

    function = Function(reply)
    poller = stream.start(function, batch=4)
    wait_for(lambda: poller.records == 6)
    assert function.batches() == [["k0", "k1", "k2", "k3"], ["k2", "k3"], ["k2", "k3"], ["k4", "k5"]]
    assert poller.failed_batches == 0 and poller.skipped == 0  # failures reported are not function errors


def test_spent_retries_skip_the_batch_and_bisecting_narrows_it_to_the_bad_record(stream):
    stream.put("a", "b", "poison", "d")

    def reply(event, call):
        if any(r["dynamodb"]["Keys"]["pk"]["S"] == "poison" for r in event["Records"]):
            raise InvocationError("ValueError: cannot score")

    function = Function(reply)
    poller = stream.start(function, batch=4, retries=2, bisect="true")
    wait_for(lambda: poller.records + poller.skipped == 4)
    assert function.batches() == [["a", "b", "poison", "d"], ["a", "b"], ["poison", "d"], ["poison"], ["poison"],
                                  ["d"]]  # fmt: skip
    assert (poller.records, poller.skipped) == (3, 1)


def test_nothing_is_lost_or_doubled_across_failures_while_writes_go_on(stream):
    keys = [f"k{i:03}" for i in range(60)]
    done, lock = [], threading.Lock()

    def reply(event, call):
        if call % 3 == 0:
            raise InvocationError("ScoreFunction timed out after 3 s")
        batch = [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]
        if call % 4 == 0 and len(batch) > 1:
            seq = event["Records"][1]["dynamodb"]["SequenceNumber"]
            with lock:
                done.extend(batch[:1])
            return {"batchItemFailures": [{"itemIdentifier": seq}]}
        with lock:
            done.extend(batch)
        return None

    function = Function(reply)
    poller = stream.start(function, batch=7, window=1)
    for start in range(0, len(keys), 10):
        stream.put(*keys[start : start + 10])
    wait_for(lambda: poller.records == len(keys), timeout=90)
    wait_for(lambda: poller.caught_up)
    assert done == keys
    assert poller.failed_batches > 0


def test_a_batch_whose_worker_died_or_timed_out_is_retried_as_it_was_by_a_fresh_worker(stream, tmp_path):
    (tmp_path / "stream_probe.py").write_text(PROBE)
    environment = {"PATH": os.environ["PATH"], "PYTHONPATH": str(tmp_path), "PROBE_DIR": str(tmp_path),
                   "AWS_LAMBDA_FUNCTION_TIMEOUT": "1"}  # fmt: skip
    pool = WorkerPool(WorkerSpec("ScoreFunction", "stream_probe.lambda_handler", 1, environment), 1, None)
    pool.start()
    try:
        stream.put("a", "die", "b", "slow", "c")
        poller = stream.start(pool.invoke, batch=10)
        wait_for(lambda: poller.records == 5, timeout=60)
    finally:
        pool.stop()
    calls = [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]
    assert calls == [["a", "die", "b", "slow", "c"]] * 3  # died, timed out, then done: the same batch each time
    assert (poller.batches, poller.failed_batches) == (3, 2)
