"""The sync plan (pure): what one batch looks up, how responses are matched, what it writes."""

import urllib.parse
from datetime import UTC, date, datetime

import pytest

from npsloop.errors import ConfigurationError
from npsloop.models import CanonicalResponse, ScoredEvent
from npsloop.salesforce.sync import (
    MAX_ENCODED_SOQL,
    Found,
    LookupPlan,
    Match,
    SyncConfig,
    chunked_queries,
    contact_updates,
    due_date,
    latest_revisions,
    match,
    nps_record,
    plan_writes,
    soql_string,
    task_subject,
)

CONTACT = "0035g00000AbCdEAAV"
OTHER_CONTACT = "0035g00000ZzZzZAAV"
ACCOUNT = "0015g00000AbCdEAAV"
OWNER = "0055g00000OwNeRAAV"
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)  # a Friday


def event(rid="generic:1", score=3, revision=1, historical=False, **fields):
    response = CanonicalResponse(response_id=rid, source="generic", score=score, **fields)
    return ScoredEvent(
        revision=revision,
        received_at=datetime(2026, 8, 1, tzinfo=UTC),
        response=response,
        category=response.category,
        historical=historical,
    )


def contact(cid, email, account, modified, last_at=None):
    return {
        "Id": cid,
        "Email": email,
        "AccountId": account,
        "LastModifiedDate": modified,
        "Account": {"OwnerId": OWNER} if account else None,
        "NPS_Last_Responded_At__c": last_at,
    }


def found_with(*contacts, **kw):
    found = Found(contacts=list(contacts), **kw)
    found.sort()
    return found


def test_email_with_a_quote_is_escaped_in_soql():
    assert soql_string("o'brien@example.com") == "'o\\'brien@example.com'"
    assert soql_string("back\\slash@example.com") == "'back\\\\slash@example.com'"
    (query,) = LookupPlan.of([event(email="O'Brien@Example.com", score=9)]).contact_queries()
    assert "Email IN ('o\\'brien@example.com')" in query


def test_one_query_for_ids_and_emails_newest_first_and_one_for_existing_tasks():
    plan = LookupPlan.of(
        [
            event("generic:1", contact_id=CONTACT, email="a@example.com"),
            event("generic:2", email="b@example.com", score=9),
            event("generic:3", email="A@example.com"),
            event("generic:4", contact_id="not-an-id", score=10),
        ]
    )
    assert plan.contact_ids == [CONTACT[:15]] and plan.emails == ["a@example.com", "b@example.com"]
    kinds = [kind for kind, _ in plan.queries()]
    assert kinds == ["contacts", "tasks"]
    (query,) = plan.contact_queries()
    assert query.startswith(
        "SELECT Id, Email, AccountId, Account.OwnerId, NPS_Last_Responded_At__c, LastModifiedDate, "
        "HasOptedOutOfEmail FROM Contact WHERE Id IN ("
    )
    assert " OR Email IN (" in query and query.endswith("ORDER BY LastModifiedDate DESC")
    assert plan.task_subjects == ["NPS detractor 3/10: generic:1", "NPS detractor 3/10: generic:3"]


def test_the_contact_lookup_learns_opt_out_and_consent_for_the_thank_you():
    (query,) = LookupPlan.of([event(email="a@example.com")]).contact_queries(SyncConfig(consent_field="Consent__c"))
    assert "HasOptedOutOfEmail, Consent__c FROM Contact" in query
    with pytest.raises(ConfigurationError):
        SyncConfig(consent_field="Consent__c FROM User --")
    found = Found(contacts=[
        {"Id": CONTACT, "Email": "a@example.com", "AccountId": ACCOUNT, "Consent__c": True},
        {"Id": "0035g00000ZzZzZ", "Email": "A@example.com", "HasOptedOutOfEmail": True},
    ])  # fmt: skip
    m = match(event(email="a@example.com"), found, "Consent__c")
    assert (m.contact_id, m.email_opted_out, m.marketing_consent) == (CONTACT, True, True)  # any record with it
    assert match(event(email="b@example.com"), found).email_opted_out is False


def test_person_accounts_and_leads_add_their_lookups_when_configured():
    plan = LookupPlan.of([event(email="a@example.com", score=8)])
    kinds = [k for k, _ in plan.queries(SyncConfig(unmatched="lead", person_accounts=True))]
    assert kinds == ["contacts", "persons", "leads"]


def test_queries_are_chunked_to_fit_the_uri():
    emails = [f"someone.with.a.long.address.{i}@example-company.com" for i in range(1000)]
    queries = chunked_queries("SELECT Id FROM Contact", {"Email": emails})
    assert len(queries) > 1
    assert all(len(urllib.parse.quote_plus(q)) <= MAX_ENCODED_SOQL for q in queries)
    assert sum(q.count("@") for q in queries) == 1000


def test_contact_found_by_explicit_id_wins_over_email():
    found = found_with(
        contact(OTHER_CONTACT, "a@example.com", "001000000000002AAA", "2026-08-02"),
        contact(CONTACT, "x@example.com", ACCOUNT, "2026-01-01"),
    )
    m = match(event(contact_id=CONTACT, email="a@example.com"), found)
    assert (m.contact_id, m.account_id, m.owner_id) == (CONTACT, ACCOUNT, OWNER)


def test_contact_found_by_email_case_insensitive_newest_wins():
    found = found_with(
        contact(CONTACT, "a@example.com", ACCOUNT, "2026-01-01"),
        contact(OTHER_CONTACT, "A@example.com", "001000000000002AAA", "2026-08-02"),
    )
    assert match(event(email="a@EXAMPLE.com"), found).contact_id == OTHER_CONTACT


def test_unknown_or_malformed_id_falls_back_to_email():
    found = found_with(contact(CONTACT, "a@example.com", ACCOUNT, "2026-01-01"))
    assert match(event(contact_id="0035g00000NoSuchAAA", email="a@example.com"), found).contact_id == CONTACT
    assert match(event(contact_id="'; DROP", email="a@example.com"), found).contact_id == CONTACT


def test_not_found_stays_unlinked_or_becomes_a_lead_when_configured():
    assert match(event(email="nobody@example.com"), found_with()) == Match()
    latest = latest_revisions(
        [
            event("generic:1", email="nobody@example.com", name="Nora", score=9),
            event("generic:2", email="Nobody@example.com", score=9),
        ]
    )
    matches = {rid: Match() for rid in latest}
    assert plan_writes(latest, matches, Found(), {}, SyncConfig(), NOW).leads == []
    leads = plan_writes(latest, matches, Found(), {}, SyncConfig(unmatched="lead"), NOW).leads
    assert [lead for _, lead in leads] == [
        {
            "attributes": {"type": "Lead"},
            "LastName": "Nora",
            "Email": "nobody@example.com",
            "Company": "[not provided]",
            "LeadSource": "NPS",
            "Status": "Open - Not Contacted",
        }
    ]
    existing = Found(lead_emails={"nobody@example.com"})
    assert plan_writes(latest, matches, existing, {}, SyncConfig(unmatched="lead"), NOW).leads == []


def test_person_account_matched_by_person_email():
    person = {
        "Id": ACCOUNT,
        "OwnerId": OWNER,
        "PersonEmail": "p@example.com",
        "PersonContactId": CONTACT,
        "LastModifiedDate": "2026-01-01",
    }
    m = match(event(email="P@example.com"), Found(persons=[person]))
    assert (m.contact_id, m.account_id, m.person_account) == (CONTACT, ACCOUNT, True)
    (update,) = contact_updates({"generic:1": event(email="P@example.com")}, {"generic:1": m})
    assert update["attributes"] == {"type": "Account"} and update["id"] == ACCOUNT and "NPS_Last_Score__pc" in update


def test_explicit_known_account_wins_over_the_contacts():
    found = found_with(contact(CONTACT, "a@example.com", ACCOUNT, "2026-01-01"))
    explicit = "0015g00000XyZxYAAV"
    found.accounts = {explicit[:15]: {"Id": explicit, "OwnerId": "005000000000009AAA"}}
    m = match(event(email="a@example.com", account_id=explicit), found)
    assert (m.account_id, m.owner_id) == (explicit, "005000000000009AAA")
    assert match(event(email="a@example.com", account_id="0015g00000UnKnOAAV"), found).account_id == ACCOUNT


def test_two_answers_of_one_contact_in_one_batch_the_latest_wins():
    first = event("generic:1", score=2, responded_at="2026-08-01T10:00:00Z")
    second = event("generic:2", score=10, responded_at="2026-08-03T10:00:00Z")
    m = Match(CONTACT, ACCOUNT, OWNER)
    (update,) = contact_updates({"generic:2": second, "generic:1": first}, {"generic:1": m, "generic:2": m})
    assert update == {
        "attributes": {"type": "Contact"},
        "id": CONTACT,
        "NPS_Last_Score__c": 10,
        "NPS_Last_Category__c": "Promoter",
        "NPS_Last_Responded_At__c": "2026-08-03T10:00:00Z",
    }


def test_an_older_answer_than_the_contact_has_does_not_overwrite_it():
    m = Match(CONTACT, ACCOUNT, OWNER, contact_last_at="2026-09-01T00:00:00.000+0000")
    assert contact_updates({"g:1": event("g:1", responded_at="2026-08-03T10:00:00Z")}, {"g:1": m}) == []
    newer = event("g:2", responded_at="2026-09-02T10:00:00Z")
    assert len(contact_updates({"g:2": newer}, {"g:2": m})) == 1


def test_one_task_per_detractor_on_the_account_owner_never_a_second_one():
    latest = latest_revisions(
        [
            event("generic:1", score=4, comment="slow"),
            event("generic:2", score=9),
            event("generic:3", score=0, historical=True),
        ]
    )
    matches = {rid: Match(CONTACT, ACCOUNT, OWNER) for rid in latest}
    plan = plan_writes(latest, matches, Found(), {}, SyncConfig(), NOW)
    ((rid, task),) = plan.tasks
    assert rid == "generic:1"
    assert task["Subject"] == task_subject(latest["generic:1"]) == "NPS detractor 4/10: generic:1"
    assert (task["OwnerId"], task["WhoId"], task["WhatId"], task["Priority"]) == (OWNER, CONTACT, ACCOUNT, "High")
    assert task["ActivityDate"] == "2026-11-24"  # Friday + 2 business days = Tuesday
    assert "slow" in task["Description"] and "4/10" in task["Description"]
    again = plan_writes(latest, matches, Found(task_subjects={task["Subject"]}), {}, SyncConfig(), NOW)
    assert again.tasks == []


def test_due_date_skips_weekends():
    assert due_date(date(2026, 11, 23)) == date(2026, 11, 25)  # Monday -> Wednesday
    assert due_date(date(2026, 11, 21)) == date(2026, 11, 24)  # Saturday -> Tuesday


def test_latest_revision_of_a_response_wins():
    latest = latest_revisions([event("g:1", score=2, revision=2), event("g:1", score=9, revision=1)])
    assert latest["g:1"].response.score == 2


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
        Match(),
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
