"""Sync scored responses into NPS_Response__c: match Contacts and Accounts in one query, upsert 200 per call."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

from npsloop.models import ScoredEvent, iso
from npsloop.salesforce.client import SalesforceClient, SalesforceError

logger = Logger(child=True)
NPS_OBJECT = "NPS_Response__c"
EXTERNAL_ID = "Response_Id__c"
COLLECTION_SIZE = 200
MAX_ENCODED_SOQL = 12_000  # the URI limit is 16,384 bytes; leave room for the host, path and headers
_ID = re.compile(r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$")


def salesforce_id(value: str | None, prefix: str) -> str | None:
    """The 15-character form of a well-formed Salesforce id with the object's key prefix, else None."""
    if value and _ID.match(value) and value.startswith(prefix):
        return value[:15]
    return None


def soql_string(value: str) -> str:
    """A SOQL string literal: backslashes and single quotes escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _in_clauses(field_name: str, values: Sequence[str]) -> str:
    return f"{field_name} IN ({', '.join(soql_string(v) for v in values)})"


def chunked_queries(select: str, conditions: dict[str, list[str]], order_by: str = "") -> list[str]:
    """`select WHERE a IN (...) OR b IN (...)`, split into as few queries as fit the URI limit."""
    queries: list[str] = []
    current: dict[str, list[str]] = {name: [] for name in conditions}

    def build(parts: dict[str, list[str]]) -> str:
        where = " OR ".join(_in_clauses(name, values) for name, values in parts.items() if values)
        return f"{select} WHERE {where}{order_by}"

    for name, values in conditions.items():
        for value in values:
            current[name].append(value)
            if len(urllib.parse.quote_plus(build(current))) > MAX_ENCODED_SOQL and sum(map(len, current.values())) > 1:
                current[name].pop()
                queries.append(build(current))
                current = {n: [] for n in conditions}
                current[name].append(value)
    if any(current.values()):
        queries.append(build(current))
    return queries


@dataclass(frozen=True)
class Match:
    contact_id: str | None = None
    account_id: str | None = None


@dataclass
class LookupPlan:
    """Which contacts and accounts one batch must look up: one query (or a few, when the URI would overflow)."""

    contact_ids: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    account_ids: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, events: Iterable[ScoredEvent]) -> LookupPlan:
        plan = cls()
        for event in events:
            r = event.response
            if (cid := salesforce_id(r.contact_id, "003")) and cid not in plan.contact_ids:
                plan.contact_ids.append(cid)
            if r.email and r.email.lower() not in plan.emails:
                plan.emails.append(r.email.lower())
            if (aid := salesforce_id(r.account_id, "001")) and aid not in plan.account_ids:
                plan.account_ids.append(aid)
        return plan

    def contact_queries(self) -> list[str]:
        if not (self.contact_ids or self.emails):
            return []
        return chunked_queries(
            "SELECT Id, Email, AccountId, LastModifiedDate FROM Contact",
            {"Id": self.contact_ids, "Email": self.emails},
            " ORDER BY LastModifiedDate DESC",
        )

    def account_queries(self) -> list[str]:
        return chunked_queries("SELECT Id FROM Account", {"Id": self.account_ids}) if self.account_ids else []


def match(event: ScoredEvent, contacts: Sequence[dict[str, Any]], account_ids: set[str]) -> Match:
    """Explicit ids win over the email match; a malformed or unknown id falls back to it.

    `contacts` must be ordered newest first (LastModifiedDate DESC): when several share an email, the most
    recently modified wins.
    """
    r = event.response
    by_id = {c["Id"][:15]: c for c in contacts}
    contact = by_id.get(salesforce_id(r.contact_id, "003") or "")
    if contact is None and r.email:
        same_email = [c for c in contacts if (c.get("Email") or "").lower() == r.email.lower()]
        if len(same_email) > 1:
            logger.info("several contacts share the respondent's email; the most recently modified wins",
                        extra={"response_id": r.response_id, "contacts": len(same_email)})  # fmt: skip
        contact = same_email[0] if same_email else None
    account = salesforce_id(r.account_id, "001")
    account_id = account if account in account_ids else (contact or {}).get("AccountId")
    return Match(contact["Id"] if contact else None, account_id)


def nps_record(event: ScoredEvent, found: Match) -> dict[str, Any]:
    """The NPS_Response__c fields for one response (without attributes; the client adds them)."""
    r = event.response
    return {
        EXTERNAL_ID: r.response_id,
        "Score__c": r.score,
        "Category__c": event.category.value,
        "Comment__c": r.comment,
        "Source__c": r.source,
        "Touchpoint__c": r.touchpoint,
        "Campaign__c": r.campaign,
        "Responded_At__c": iso(event.period_time),
        "Email__c": r.email,
        "Contact__c": found.contact_id,
        "Account__c": found.account_id,
        **({"Themes__c": ", ".join(event.themes)[:255]} if event.themes else {}),
        **({"Sentiment__c": event.sentiment.lower()} if event.sentiment else {}),
    }


@dataclass
class SyncOutcome:
    synced: dict[str, Match] = field(default_factory=dict)  # response id -> what it was linked to
    rejected: dict[str, SalesforceError] = field(default_factory=dict)  # for good: to the DLQ
    retry: dict[str, SalesforceError] = field(default_factory=dict)  # may succeed later: back to the queue


def sync(events: Sequence[ScoredEvent], api: SalesforceClient) -> SyncOutcome:
    """Sync the latest revision of each response; a call-level failure leaves the whole batch to retry."""
    latest: dict[str, ScoredEvent] = {}
    for event in events:
        rid = event.response.response_id
        if rid not in latest or event.revision > latest[rid].revision:
            latest[rid] = event
    plan = LookupPlan.of(latest.values())
    contacts = [c for q in plan.contact_queries() for c in api.query(q)]
    contacts.sort(key=lambda c: c.get("LastModifiedDate") or "", reverse=True)
    accounts = {a["Id"][:15] for q in plan.account_queries() for a in api.query(q)}
    matches = {rid: match(event, contacts, accounts) for rid, event in latest.items()}

    outcome = SyncOutcome()
    ids = list(latest)
    for start in range(0, len(ids), COLLECTION_SIZE):
        chunk = ids[start : start + COLLECTION_SIZE]
        results = api.upsert(NPS_OBJECT, EXTERNAL_ID, [nps_record(latest[rid], matches[rid]) for rid in chunk])
        for rid, result in zip(chunk, results, strict=True):
            if result.get("success"):
                outcome.synced[rid] = matches[rid]
                continue
            first = (result.get("errors") or [{}])[0]
            error = SalesforceError(400, first.get("statusCode", "UNKNOWN"), first.get("message", ""))
            (outcome.retry if error.retryable else outcome.rejected)[rid] = error
    return outcome
