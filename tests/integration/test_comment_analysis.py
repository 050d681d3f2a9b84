"""compute_score on moto: themes and sentiment stored on the response, counted per category, sent downstream;
a ledger read by two writers moves the counts once."""


from compute_score import handler as compute

from npsloop.aggregation import contribution, deltas, keys_for
from npsloop.stores.aggregates import AggregateStore, LedgerEntry

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
    compute.lambda_handler(stack.sqs_event("ScoreQueue"), context)

    stored = item(stack, "generic:t1")
    assert [t["S"] for t in stored["themes"]["L"]] == ["price", "support"]
    assert stored["sentiment"] == {"NULL": True}  # Comprehend is off: no value rather than an invented one
    assert stored["category"]["S"] == "Detractor" and stored["period_month"]["S"] == "2026-08"
    month = stack.aggregate("overall#all", "month#2026-08")
    assert month["theme_detractors_price"] == 1 and month["theme_detractors_support"] == 1
    assert month["theme_promoters_onboarding"] == 1
    assert stack.aggregate("campaign#spring", "quarter#2026-Q3")["promoters"] == 1
    scored = {e["detail"]["response"]["response_id"]: e["detail"] for e in stack.queued_events("SyncQueue")}
    assert scored["generic:t1"]["themes"] == ["price", "support"] and scored["generic:t1"]["sentiment"] is None
    assert scored["generic:t2"]["themes"] == ["onboarding"]


def test_custom_segments_are_counted_when_configured(stack, context, monkeypatch):
    monkeypatch.setenv("CUSTOM_SEGMENTS", "plan, region")
    generic(context, {"response_id": "c1", "score": 8, "attributes": {"plan": "pro"},
                      "responded_at": "2026-08-14T10:00:00Z"})  # fmt: skip
    compute.lambda_handler(stack.sqs_event("ScoreQueue"), context)
    assert stack.aggregate("plan#pro", "month#2026-08")["passives"] == 1


def test_two_writers_that_read_the_same_ledger_move_the_counts_once(stack):
    store = AggregateStore(stack.names.refs["ResponsesTable"], stack.names.refs["AggregatesTable"],
                           stack.client("dynamodb"))  # fmt: skip
    from datetime import datetime

    keys = keys_for({"overall": "all"}, datetime(2026, 8, 14))
    first = contribution(5, keys)
    assert store.apply("counted", [LedgerEntry("generic:r", 1, first, None)], deltas(None, first))
    # two writers both read revision 1's ledger, then each counts a newer revision from it
    second, third = contribution(9, keys), contribution(10, keys)
    assert store.apply("counted", [LedgerEntry("generic:r", 2, second, first)], deltas(first, second))
    assert not store.apply("counted", [LedgerEntry("generic:r", 3, third, first)], deltas(first, third))
    month = store.get("overall#all", "month#2026-08")
    assert (month["responses"], month["promoters"], month["detractors"]) == (1, 1, 0)
    # a recount at the counted revision needs the ledger as it is now
    wider = contribution(9, keys_for({"overall": "all", "source": "generic"}, datetime(2026, 8, 14)))
    assert not store.recount("counted", [LedgerEntry("generic:r", 2, wider, first)], deltas(first, wider))
    assert store.recount("counted", [LedgerEntry("generic:r", 2, wider, second)], deltas(second, wider))
    assert store.get("source#generic", "month#2026-08")["promoters"] == 1
    assert store.get("overall#all", "month#2026-08")["responses"] == 1
