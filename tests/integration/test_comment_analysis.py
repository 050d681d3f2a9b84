"""Themes stored with each revision, counted per category by compute_score and sent downstream; custom segments;
a chunk of stream records counted once however often it is handed over."""

from compute_score import handler as compute

from npsloop.aggregation import contribution, deltas, keys_for, merge
from npsloop.stores.aggregates import AggregateStore

from .test_ingest import generic


def item(stack, rid):
    got = stack.client("dynamodb").get_item(TableName=stack.names.refs["ResponsesTable"],
                                            Key={"response_id": {"S": rid}})  # fmt: skip
    return got["Item"]


def test_themes_are_stored_counted_and_published_and_sentiment_is_not_invented(stack, context):
    generic(context, {"response_id": "t1", "score": 3, "comment": "Der Support war langsam und teuer",
                      "touchpoint": "support", "responded_at": "2026-08-14T10:00:00Z"})  # fmt: skip
    generic(context, {"response_id": "t2", "score": 10, "comment": "great onboarding",
                      "campaign": "spring", "responded_at": "2026-08-15T10:00:00Z"})  # fmt: skip
    compute.lambda_handler(stack.stream_event(), context)

    stored = item(stack, "generic:t1")
    assert [t["S"] for t in stored["themes"]["L"]] == ["price", "support"]
    assert "sentiment" not in stored  # Comprehend is off: no value rather than an invented one
    assert stored["category"]["S"] == "Detractor" and stored["period_month"]["S"] == "2026-08"
    month = stack.aggregate("overall#all", "month#2026-08")
    assert month["theme_detractors_price"] == 1 and month["theme_detractors_support"] == 1
    assert month["theme_promoters_onboarding"] == 1
    assert stack.aggregate("campaign#spring", "month#2026-08")["promoters"] == 1
    scored = {e["detail"]["response"]["response_id"]: e["detail"] for e in stack.queued_events("SyncQueue")}
    assert scored["generic:t1"]["themes"] == ["price", "support"] and scored["generic:t1"]["sentiment"] is None
    assert scored["generic:t2"]["themes"] == ["onboarding"]


def test_custom_segments_are_counted_when_configured(stack, context, monkeypatch):
    monkeypatch.setenv("CUSTOM_SEGMENTS", "plan, region")
    generic(context, {"response_id": "c1", "score": 8, "attributes": {"plan": "pro"},
                      "responded_at": "2026-08-14T10:00:00Z"})  # fmt: skip
    compute.lambda_handler(stack.stream_event(), context)
    assert stack.aggregate("plan#pro", "month#2026-08")["passives"] == 1


def test_a_chunk_counted_once_names_its_records_when_handed_over_again(stack):
    from datetime import datetime

    store = AggregateStore(stack.names.refs["AggregatesTable"], stack.client("dynamodb"))
    keys = keys_for({"overall": "all"}, datetime(2026, 8, 14))
    moves = merge([deltas(None, contribution(5, keys)), deltas(None, contribution(9, keys))])
    assert store.count(["e1", "e2"], moves) is True
    assert store.count(["e1", "e2", "e3"], moves) == ["e1", "e2"]  # counted before: the counts are untouched
    month = store.get("overall#all", "month#2026-08")
    assert (month["responses"], month["promoters"], month["detractors"]) == (2, 1, 1)
    assert store.counted("e2") is None
    store.continue_marker(["e2"])
    assert store.count(["e2"], moves) == ["e2"]
    assert store.get("overall#all", "month#2026-08")["responses"] == 2
