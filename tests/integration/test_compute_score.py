"""compute_score in-process on moto: summed aggregate updates, each response counted once with its latest score."""

import json

import pytest
from compute_score import handler as compute

from npsloop.stores.aggregates import AggregateStore

from .test_ingest import generic


def score_all(stack, context):
    event = stack.sqs_event("ScoreQueue")
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
    assert stack.aggregate("overall#all", "week#2026-W33")["responses"] == 5
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
    event = stack.sqs_event("ScoreQueue")
    compute.lambda_handler(event, context)
    compute.lambda_handler(event, context)  # the same messages again (visibility timeout expired)
    assert stack.aggregate("overall#all", "month#2026-08")["responses"] == 1


def test_an_update_moves_the_count_and_a_late_old_revision_changes_nothing(stack, context):
    base = {"response_id": "u1", "responded_at": "2026-08-01T10:00:00Z"}
    generic(context, {**base, "score": 2, "updated_at": "2026-08-01T10:00:00Z"})
    first = stack.sqs_event("ScoreQueue")
    generic(context, {**base, "score": 10, "updated_at": "2026-08-02T10:00:00Z", "touchpoint": "support"})
    second = stack.sqs_event("ScoreQueue")
    compute.lambda_handler(first, context)
    compute.lambda_handler(second, context)
    compute.lambda_handler(first, context)  # revision 1 arrives again, late
    month = stack.aggregate("overall#all", "month#2026-08")
    assert (month["responses"], month["promoters"], month["detractors"], month["score_2"]) == (1, 1, 0, 0)
    assert stack.aggregate("touchpoint#support", "month#2026-08")["promoters"] == 1


def test_dying_between_writes_cannot_double_count(stack, context, monkeypatch):
    """Counts and the response's ledger move in one transaction: a failed one leaves both untouched."""
    generic(context, {"response_id": "c1", "score": 8, "responded_at": "2026-08-01T10:00:00Z"})
    event = stack.sqs_event("ScoreQueue")
    real_apply = AggregateStore.apply
    calls = []

    def fail_once(self, *args, **kw):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("container frozen mid-batch")
        return real_apply(self, *args, **kw)

    monkeypatch.setattr(AggregateStore, "apply", fail_once)
    with pytest.raises(RuntimeError):
        compute.lambda_handler(event, context)
    assert stack.aggregate("overall#all", "month#2026-08") == {}
    compute.lambda_handler(event, context)
    compute.lambda_handler(event, context)
    assert stack.aggregate("overall#all", "month#2026-08")["passives"] == 1


def test_unreadable_message_is_reported_failed(stack, context):
    event = {"Records": [{"messageId": "bad-1", "body": "not json"}]}
    assert compute.lambda_handler(event, context) == {"batchItemFailures": [{"itemIdentifier": "bad-1"}]}
