"""The sync's pure parts: which contacts to look up, how a response is matched, what NPS_Response__c receives."""

import urllib.parse
from datetime import UTC, datetime

from npsloop.models import CanonicalResponse, ScoredEvent
from npsloop.salesforce.sync import MAX_ENCODED_SOQL, LookupPlan, chunked_queries, match, nps_record, soql_string

CONTACT = "0035g00000AbCdEAAV"
OTHER_CONTACT = "0035g00000ZzZzZAAV"
ACCOUNT = "0015g00000AbCdEAAV"


def event(rid="generic:1", score=3, **fields):
    response = CanonicalResponse(response_id=rid, source="generic", score=score, **fields)
    return ScoredEvent(
        revision=1, received_at=datetime(2026, 8, 1, tzinfo=UTC), response=response, category=response.category
    )


def contact(cid, email, account, modified):
    return {"Id": cid, "Email": email, "AccountId": account, "LastModifiedDate": modified}


def test_email_with_a_quote_is_escaped_in_soql():
    assert soql_string("o'brien@example.com") == "'o\\'brien@example.com'"
    assert soql_string("back\\slash@example.com") == "'back\\\\slash@example.com'"
    plan = LookupPlan.of([event(email="O'Brien@Example.com")])
    (query,) = plan.contact_queries()
    assert "Email IN ('o\\'brien@example.com')" in query


def test_one_query_for_ids_and_emails_newest_first():
    plan = LookupPlan.of(
        [
            event("generic:1", contact_id=CONTACT, email="a@example.com"),
            event("generic:2", email="b@example.com"),
            event("generic:3", email="A@example.com"),
            event("generic:4", contact_id="not-an-id"),
        ]
    )
    assert plan.contact_ids == [CONTACT[:15]] and plan.emails == ["a@example.com", "b@example.com"]
    (query,) = plan.contact_queries()
    assert query.startswith("SELECT Id, Email, AccountId, LastModifiedDate FROM Contact WHERE Id IN (")
    assert " OR Email IN (" in query and query.endswith("ORDER BY LastModifiedDate DESC")
    assert plan.account_queries() == []


def test_queries_are_chunked_to_fit_the_uri():
    emails = [f"someone.with.a.long.address.{i}@example-company.com" for i in range(1000)]
    queries = chunked_queries("SELECT Id FROM Contact", {"Email": emails})
    assert len(queries) > 1
    assert all(len(urllib.parse.quote_plus(q)) <= MAX_ENCODED_SOQL for q in queries)
    assert sum(q.count("@") for q in queries) == 1000


def test_contact_found_by_explicit_id_wins_over_email():
    contacts = [
        contact(OTHER_CONTACT, "a@example.com", "001000000000002AAA", "2026-08-02"),
        contact(CONTACT, "x@example.com", ACCOUNT, "2026-01-01"),
    ]
    found = match(event(contact_id=CONTACT, email="a@example.com"), contacts, set())
    assert (found.contact_id, found.account_id) == (CONTACT, ACCOUNT)


def test_contact_found_by_email_case_insensitive_newest_wins():
    contacts = [
        contact(OTHER_CONTACT, "A@example.com", "001000000000002AAA", "2026-08-02"),
        contact(CONTACT, "a@example.com", ACCOUNT, "2026-01-01"),
    ]
    found = match(event(email="a@EXAMPLE.com"), contacts, set())
    assert found.contact_id == OTHER_CONTACT


def test_unknown_or_malformed_id_falls_back_to_email():
    contacts = [contact(CONTACT, "a@example.com", ACCOUNT, "2026-01-01")]
    assert match(event(contact_id="0035g00000NoSuchAAA", email="a@example.com"), contacts, set()).contact_id == CONTACT
    assert match(event(contact_id="'; DROP", email="a@example.com"), contacts, set()).contact_id == CONTACT


def test_not_found_stays_unlinked():
    found = match(event(email="nobody@example.com"), [], set())
    assert (found.contact_id, found.account_id) == (None, None)


def test_explicit_known_account_wins_over_the_contacts():
    contacts = [contact(CONTACT, "a@example.com", ACCOUNT, "2026-01-01")]
    explicit = "0015g00000XyZxYAAV"
    assert (
        match(event(email="a@example.com", account_id=explicit), contacts, {explicit[:15]}).account_id == explicit[:15]
    )
    assert match(event(email="a@example.com", account_id=explicit), contacts, set()).account_id == ACCOUNT


def test_record_fields():
    record = nps_record(
        event(
            score=9,
            email="a@example.com",
            comment="great",
            touchpoint="support",
            campaign="q3",
            responded_at="2026-08-14T09:00:00Z",
        ),
        match(event(), [], set()),
    )
    assert record == {
        "Response_Id__c": "generic:1",
        "Score__c": 9,
        "Category__c": "Promoter",
        "Comment__c": "great",
        "Source__c": "generic",
        "Touchpoint__c": "support",
        "Campaign__c": "q3",
        "Responded_At__c": "2026-08-14T09:00:00Z",
        "Email__c": "a@example.com",
        "Contact__c": None,
        "Account__c": None,
    }
