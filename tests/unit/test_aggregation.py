"""Which aggregate items a response counts in: periods (quarter included), segments (custom ones too), themes."""

from collections import Counter
from datetime import datetime

from npsloop.aggregation import (
    AggregateKey,
    contribution,
    counted_segments,
    deltas,
    keys_for,
    period_labels,
    segment_values,
)
from npsloop.models import CanonicalResponse


def test_period_labels_include_iso_week_and_quarter():
    assert period_labels(datetime(2026, 8, 14, 12)) == {
        "day": "2026-08-14", "week": "2026-W33", "month": "2026-08", "quarter": "2026-Q3"}  # fmt: skip
    assert period_labels(datetime(2027, 1, 1))["week"] == "2026-W53"  # ISO year of the week
    assert [period_labels(datetime(2026, m, 1))["quarter"] for m in (1, 3, 4, 6, 7, 9, 10, 12)] == [
        "2026-Q1", "2026-Q1", "2026-Q2", "2026-Q2", "2026-Q3", "2026-Q3", "2026-Q4", "2026-Q4"]  # fmt: skip


def test_campaign_and_configured_attributes_are_segments():
    r = CanonicalResponse(response_id="generic:1", source="generic", score=9, campaign="spring",
                          attributes={"plan": "pro", "region": "eu"})  # fmt: skip
    segments = counted_segments(["plan", "source", "missing"])
    assert segments == ("overall", "source", "touchpoint", "campaign", "plan", "missing")
    assert segment_values(r, segments) == {"overall": "all", "source": "generic", "campaign": "spring", "plan": "pro"}
    assert len(keys_for(segment_values(r, segments), datetime(2026, 8, 14))) == 4 * 2  # four segments by day and month


def test_theme_counters_follow_the_category_and_move_with_an_update():
    keys = [AggregateKey("overall#all", "month#2026-08")]
    old = contribution(3, keys, ["price", "support"])
    new = contribution(9, keys, ["support"])
    first = Counter({"responses": 1, "detractors": 1, "score_3": 1,
                     "theme_detractors_price": 1, "theme_detractors_support": 1})  # fmt: skip
    assert deltas(None, old)[keys[0]] == first
    assert deltas(old, new)[keys[0]] == Counter({"detractors": -1, "promoters": 1, "score_3": -1, "score_9": 1,
                                                 "theme_detractors_price": -1, "theme_detractors_support": -1,
                                                 "theme_promoters_support": 1})  # fmt: skip
    assert deltas({"score": 3, "keys": [list(keys[0])]}, contribution(3, keys)) == {}  # a ledger without themes
