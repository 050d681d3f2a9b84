"""compute_score in-process on moto, fed the Responses table's stream: summed aggregate updates, each response counted
once with its latest score, whatever Lambda hands over again."""

import json

import pytest
from compute_score import handler as compute

from npsloop.stores.aggregates import AggregateStore

from .test_ingest import generic


def score_all(stack, context):
    event = stack.stream_event()
    return event, compute.lambda_handler(event, context)


def test_counts_by_segment_and_period_and_publishes_scored(stack, context):
    for i, (score, tp) in enumerate([(10, "support"), (9, "support"), (7, "onboarding"), (3, None), (0, "support")]):
        generic(
            context,
            {"response_id": f"s{i}", "score": score, "touchpoint": tp, "responded_at": "2026-08-14T23:30:00-02:00"},
        )  # 2026-08-15 01:30 UTC
    event, result = score_all(stack, context)
    assert len(event["Records"]) == 5 and result == {"batchItemFailures": []}
    overall = stack.aggregate("overall#all", "month#2026-08")
    assert overall == {
        "responses": 5,
        "promoters": 2,
        "passives": 1,
        "detractors": 2,
        "score_10": 1,
        "score_9": 1,
        "score_7": 1,
        "score_3": 1,
        "score_0": 1,
    }
    assert stack.aggregate("overall#all", "day#2026-08-15")["responses"] == 5  # by UTC day
    assert stack.aggregate("overall#all", "week#2026-W33") == {}  # weeks are summed from days when read
    assert stack.aggregate("touchpoint#support", "month#2026-08")["detractors"] == 1
    assert stack.aggregate("source#generic", "day#2026-08-15")["promoters"] == 2
    scored = stack.queued_events("SyncQueue")
    assert {e["detail-type"] for e in scored} == {"ResponseScored"}
    assert sorted(e["detail"]["category"] for e in scored) == [
        "Detractor",
        "Detractor",
        "Passive",
        "Promoter",
        "Promoter",
    ]
    notified = stack.queue_messages("NotifyQueue")
    assert len(notified) == 1  # one event for the batch: EventBridge bills per entry and 64 KB
    assert len(json.loads(notified[0]["Body"])["detail"]["responses"]) == 5


def test_redelivered_batch_counts_nothing_twice(stack, context):
    generic(context, {"response_id": "d1", "score": 9, "responded_at": "2026-08-01T10:00:00Z"})
    event = stack.stream_event()
    compute.lambda_handler(event, context)
    compute.lambda_handler(event, context)  # the same records again (the invocation timed out after counting)
    assert stack.aggregate("overall#all", "month#2026-08")["responses"] == 1


def test_an_update_moves_the_count_and_a_late_old_revision_changes_nothing(stack, context):
    base = {"response_id": "u1", "responded_at": "2026-08-01T10:00:00Z"}
    generic(context, {**base, "score": 2, "updated_at": "2026-08-01T10:00:00Z"})
    first = stack.stream_event()
    generic(context, {**base, "score": 10, "updated_at": "2026-08-02T10:00:00Z", "touchpoint": "support"})
    second = stack.stream_event()
    compute.lambda_handler(first, context)
    compute.lambda_handler(second, context)
    compute.lambda_handler(first, context)  # revision 1 arrives again, late
    month = stack.aggregate("overall#all", "month#2026-08")
    assert (month["responses"], month["promoters"], month["detractors"], month["score_2"]) == (1, 1, 0, 0)
    assert stack.aggregate("touchpoint#support", "month#2026-08")["promoters"] == 1


def test_dying_between_writes_cannot_double_count(stack, context, monkeypatch):
    """A chunk's counts and its marker move in one transaction: a failed one leaves both untouched."""
    generic(context, {"response_id": "c1", "score": 8, "responded_at": "2026-08-01T10:00:00Z"})
    event = stack.stream_event()
    real_count = AggregateStore.count
    calls = []

    def fail_once(self, *args, **kw):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("container frozen mid-batch")
        return real_count(self, *args, **kw)

    monkeypatch.setattr(AggregateStore, "count", fail_once)
    with pytest.raises(RuntimeError):
        compute.lambda_handler(event, context)
    assert stack.aggregate("overall#all", "month#2026-08") == {}
    compute.lambda_handler(event, context)
    compute.lambda_handler(event, context)
    assert stack.aggregate("overall#all", "month#2026-08")["passives"] == 1


def ten_responses(context):
    for i in range(10):
        generic(context, {"response_id": f"k{i}", "score": i, "touchpoint": f"tp{i}",
                          "responded_at": f"2026-08-{i + 1:02d}T10:00:00Z"})  # fmt: skip


def expect_ten_counted_once(stack):
    month = stack.aggregate("overall#all", "month#2026-08")
    assert (month["responses"], month["detractors"], month["passives"], month["promoters"]) == (10, 7, 2, 1)
    assert all(stack.aggregate(f"touchpoint#tp{i}", "month#2026-08")["responses"] == 1 for i in range(10))


def test_a_batch_that_died_after_some_chunks_is_counted_once_when_handed_over_again(stack, context, monkeypatch):
    monkeypatch.setattr("npsloop.compute.MAX_TRANSACTION_ITEMS", 12)  # a few responses per chunk
    ten_responses(context)
    event = stack.stream_event()
    real_count, calls = AggregateStore.count, []

    def die_on_third(self, *args, **kw):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("killed mid-batch")
        return real_count(self, *args, **kw)

    monkeypatch.setattr(AggregateStore, "count", die_on_third)
    with pytest.raises(RuntimeError):
        compute.lambda_handler(event, context)
    monkeypatch.setattr(AggregateStore, "count", real_count)
    assert compute.lambda_handler(event, context) == {"batchItemFailures": []}  # the whole batch again
    expect_ten_counted_once(stack)


def test_a_chunk_that_keeps_colliding_is_reported_and_lambda_resumes_from_it(stack, context, monkeypatch):
    monkeypatch.setattr("npsloop.compute.MAX_TRANSACTION_ITEMS", 12)
    ten_responses(context)
    event = stack.stream_event()
    real_count, calls = AggregateStore.count, []

    def collide_from_second(self, records, moves):
        calls.append(records)
        return False if len(calls) > 1 else real_count(self, records, moves)

    monkeypatch.setattr(AggregateStore, "count", collide_from_second)
    (failure,) = compute.lambda_handler(event, context)["batchItemFailures"]
    sequences = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
    assert failure["itemIdentifier"] == sequences[len(calls[0])]  # the first record of the first chunk not counted
    monkeypatch.setattr(AggregateStore, "count", real_count)
    rest = {"Records": event["Records"][sequences.index(failure["itemIdentifier"]):]}  # as Lambda resumes
    assert compute.lambda_handler(rest, context) == {"batchItemFailures": []}
    expect_ten_counted_once(stack)


def test_a_shorter_batch_handed_over_again_ends_inside_a_counted_chunk_and_the_next_one_skips_the_rest(stack, context):
    ten_responses(context)
    event = stack.stream_event()
    assert compute.lambda_handler(event, context) == {"batchItemFailures": []}  # one chunk of ten
    records = event["Records"]
    assert compute.lambda_handler({"Records": records[:4]}, context) == {"batchItemFailures": []}
    assert compute.lambda_handler({"Records": records[4:]}, context) == {"batchItemFailures": []}
    expect_ten_counted_once(stack)


def test_links_erasure_and_sentiment_move_only_what_changed(stack, context):
    from npsloop.stores.responses import ResponseStore, SyncedTo

    generic(context, {"response_id": "l1", "score": 9, "responded_at": "2026-08-01T10:00:00Z",
                      "comment": "Far too expensive"})  # fmt: skip
    store = ResponseStore(stack.names.refs["ResponsesTable"], stack.client("dynamodb"))
    store.record_link("generic:l1", 1, SyncedTo("003A", "001A", "a0X1"))
    store.set_sentiment([("generic:l1", 1, "NEGATIVE")])
    store.erase("generic:l1", at="2026-08-02T00:00:00Z")
    event = stack.stream_event()
    assert [r["eventName"] for r in event["Records"]] == ["INSERT", "MODIFY", "MODIFY", "MODIFY"]
    assert compute.lambda_handler(event, context) == {"batchItemFailures": []}
    assert stack.aggregate("overall#all", "month#2026-08") == {"responses": 1, "promoters": 1, "score_9": 1,
                                                               "theme_promoters_price": 1}  # fmt: skip
    assert stack.aggregate("account#001A", "month#2026-08") == {}  # the account is counted from the ByAccount index
    assert len(stack.queued_events("SyncQueue")) == 1  # only the new revision is scored


def test_an_item_without_a_basis_moves_nothing(stack, context):
    table = stack.names.refs["ResponsesTable"]
    stack.client("dynamodb").put_item(TableName=table, Item={"response_id": {"S": "old:1"}, "revision": {"N": "1"}})
    assert compute.lambda_handler(stack.stream_event(), context) == {"batchItemFailures": []}
    assert stack.aggregate("overall#all", "month#2026-08") == {}
