"""NPS_Response__c carries the comment's themes and sentiment when comment analysis found them."""

from datetime import UTC, datetime

from npsloop.models import CanonicalResponse, ScoredEvent
from npsloop.salesforce.sync import Match, nps_record


def scored(**kw):
    response = CanonicalResponse(response_id="generic:1", source="generic", score=3, comment="teurer Support")
    return ScoredEvent(revision=1, received_at=datetime(2026, 8, 14, tzinfo=UTC), response=response,
                       category=response.category, **kw)  # fmt: skip


def test_themes_and_sentiment_are_sent_when_present():
    record = nps_record(scored(themes=["price", "support"], sentiment="NEGATIVE"), Match())
    assert record["Themes__c"] == "price, support" and record["Sentiment__c"] == "negative"


def test_nothing_is_sent_for_them_when_absent():
    record = nps_record(scored(), Match())
    assert "Themes__c" not in record and "Sentiment__c" not in record
