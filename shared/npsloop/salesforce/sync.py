"""The sync plan for one batch (pure) and its run in two API calls: one Composite of lookups, one of writes.

Call 1 looks up, in one Composite, the Contacts (by explicit id or email), explicitly named Accounts,
Person Accounts (when the org has them), the Tasks already made for these responses, and the Leads
already there for unmatched respondents. Call 2 writes, in one Composite of up to five sObject
Collections: the NPS_Response__c upserts by external id, the Contact NPS fields (latest answer wins),
the Account NPS fields, the detractor Tasks and the Leads. 200 responses thus cost two API calls.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from npsloop.errors import ConfigurationError
from npsloop.models import ScoredEvent, iso
from npsloop.salesforce.client import SalesforceClient, SalesforceError
from npsloop.scoring import Category

logger = Logger(child=True)
NPS_OBJECT = "NPS_Response__c"
EXTERNAL_ID = "Response_Id__c"
LEAD_SOURCE = "NPS"  # on the Leads npsloop creates for unmatched respondents
EMAIL_FIELD = "Email__c"  # the respondent's address as received
LAST_ANSWER_FIELDS = ("NPS_Last_Score", "NPS_Last_Category", "NPS_Last_Responded_At")  # + __c on Contact, __pc
COLLECTION_SIZE = 200
MAX_ENCODED_SOQL = 12_000  # the URI limit is 16,384 bytes; leave room for the host, path and headers
COMPOSITE_QUERIES = 5  # Composite allows 5 query or collection subrequests per call
TASK_DUE_BUSINESS_DAYS = 2
_ID = re.compile(r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$")
FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class SyncConfig:
    """How the org is set up and what the admin asked for (template parameters)."""

    unmatched: str = "keep"  # "keep": the response stays unlinked; "lead": a Lead (LeadSource "NPS") is created
    person_accounts: bool = False  # match Person Accounts by PersonEmail too
    create_tasks: bool = True
    tasks_for_history: bool = False  # history is not news; only a backfill asked for Tasks makes them for it
    consent_field: str | None = None  # a Contact checkbox of marketing consent, read with HasOptedOutOfEmail

    def __post_init__(self) -> None:
        if self.consent_field and not FIELD_NAME.match(self.consent_field):
            raise ConfigurationError(f"consent field {self.consent_field!r} is not a Salesforce field name")


def salesforce_id(value: str | None, prefix: str) -> str | None:
    """The 15-character form of a well-formed Salesforce id with the object's key prefix, else None."""
    if value and _ID.match(value) and value.startswith(prefix):
        return value[:15]
    return None


def soql_string(value: str) -> str:
    """A SOQL string literal: backslashes and single quotes escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _in_clause(field_name: str, values: Sequence[str]) -> str:
    return f"{field_name} IN ({', '.join(soql_string(v) for v in values)})"


def chunked_queries(select: str, conditions: Mapping[str, list[str]], order_by: str = "") -> list[str]:
    """`select WHERE a IN (...) OR b IN (...)`, split into as few queries as fit the URI limit.

    A query's encoded length is the sum of its pieces' (quote_plus encodes character by character), so it is kept
    as values are added instead of encoding the whole query again for each value (quadratic in a batch's values).
    """
    queries: list[str] = []
    current: dict[str, list[str]] = {name: [] for name in conditions}

    def build(parts: dict[str, list[str]]) -> str:
        where = " OR ".join(_in_clause(name, values) for name, values in parts.items() if values)
        return f"{select} WHERE {where}{order_by}"

    def encoded(text: str) -> int:
        return len(urllib.parse.quote_plus(text))

    base = encoded(f"{select} WHERE {order_by}")
    size, count = base, 0
    for name, values in conditions.items():
        opening = encoded(f"{name} IN (") + encoded(")")
        for value in values:
            literal = encoded(soql_string(value))
            if current[name]:
                grown = encoded(", ") + literal
            else:
                grown = opening + literal + (encoded(" OR ") if count else 0)
            if size + grown > MAX_ENCODED_SOQL and count:
                queries.append(build(current))
                current = {n: [] for n in conditions}
                size, count, grown = base, 0, opening + literal
            current[name].append(value)
            size, count = size + grown, count + 1
    if count:
        queries.append(build(current))
    return queries


def latest_revisions(events: Iterable[ScoredEvent]) -> dict[str, ScoredEvent]:
    latest: dict[str, ScoredEvent] = {}
    for event in events:
        rid = event.response.response_id
        if rid not in latest or event.revision > latest[rid].revision:
            latest[rid] = event
    return latest


def task_subject(event: ScoredEvent) -> str:
    """Names the response, so a redelivery finds the Task it already made."""
    return subject_of(event.response.score, event.response.response_id)


def subject_of(score: int, response_id: str) -> str:
    return f"NPS detractor {score}/10: {response_id}"[:255]


def wants_task(event: ScoredEvent, config: SyncConfig) -> bool:
    return (
        config.create_tasks
        and event.category is Category.DETRACTOR
        and (config.tasks_for_history or not event.historical)
    )


def due_date(today: date, business_days: int = TASK_DUE_BUSINESS_DAYS) -> date:
    """`business_days` working days after today (Saturdays and Sundays skipped)."""
    day = today
    while business_days:
        day += timedelta(days=1)
        if day.weekday() < 5:
            business_days -= 1
    return day


# --- call 1: lookups ----------------------------------------------------------------------------------------------
@dataclass
class LookupPlan:
    """Which contacts, accounts, tasks and leads one batch must look up."""

    contact_ids: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    account_ids: list[str] = field(default_factory=list)
    task_subjects: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, events: Iterable[ScoredEvent], config: SyncConfig = SyncConfig()) -> LookupPlan:
        plan = cls()
        for event in events:
            r = event.response
            if (cid := salesforce_id(r.contact_id, "003")) and cid not in plan.contact_ids:
                plan.contact_ids.append(cid)
            if r.email and r.email.lower() not in plan.emails:
                plan.emails.append(r.email.lower())
            if (aid := salesforce_id(r.account_id, "001")) and aid not in plan.account_ids:
                plan.account_ids.append(aid)
            if wants_task(event, config):
                plan.task_subjects.append(task_subject(event))
        return plan

    def queries(self, config: SyncConfig = SyncConfig()) -> list[tuple[str, str]]:
        """(kind, SOQL) pairs; each kind may be split in several queries to fit the URI limit."""
        out: list[tuple[str, str]] = []
        if self.contact_ids or self.emails:
            consent = f", {config.consent_field}" if config.consent_field else ""  # a field name: FIELD_NAME
            select = ("SELECT Id, Email, AccountId, Account.OwnerId, NPS_Last_Responded_At__c, LastModifiedDate, "  # noqa: S608 # nosec B608
                      f"HasOptedOutOfEmail{consent} FROM Contact")  # fmt: skip
            order = " ORDER BY LastModifiedDate DESC"
            out += [
                ("contacts", q) for q in chunked_queries(select, {"Id": self.contact_ids, "Email": self.emails}, order)
            ]
        if self.account_ids:
            out += [
                ("accounts", q) for q in chunked_queries("SELECT Id, OwnerId FROM Account", {"Id": self.account_ids})
            ]
        if config.person_accounts and self.emails:
            select = ("SELECT Id, OwnerId, PersonEmail, PersonContactId, NPS_Last_Responded_At__pc, LastModifiedDate, "
                      "PersonHasOptedOutOfEmail FROM Account")  # fmt: skip
            order = " ORDER BY LastModifiedDate DESC"
            out += [("persons", q) for q in chunked_queries(select, {"PersonEmail": self.emails}, order)]
        if self.task_subjects:
            out += [
                ("tasks", q) for q in chunked_queries("SELECT Id, Subject FROM Task", {"Subject": self.task_subjects})
            ]
        if config.unmatched == "lead" and self.emails:
            out += [("leads", q) for q in chunked_queries("SELECT Id, Email FROM Lead", {"Email": self.emails})]
        return out

    def contact_queries(self, config: SyncConfig = SyncConfig()) -> list[str]:
        return [q for kind, q in self.queries(config) if kind == "contacts"]


@dataclass
class Found:
    """What the lookups returned, by kind (contacts and persons newest first)."""

    contacts: list[dict[str, Any]] = field(default_factory=list)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)  # by 15-char id
    persons: list[dict[str, Any]] = field(default_factory=list)
    task_subjects: set[str] = field(default_factory=set)
    lead_emails: set[str] = field(default_factory=set)

    def add(self, kind: str, records: list[dict[str, Any]]) -> None:
        if kind == "contacts":
            self.contacts.extend(records)
        elif kind == "accounts":
            self.accounts.update({a["Id"][:15]: a for a in records})
        elif kind == "persons":
            self.persons.extend(records)
        elif kind == "tasks":
            self.task_subjects.update(t["Subject"] for t in records)
        elif kind == "leads":
            self.lead_emails.update((lead.get("Email") or "").lower() for lead in records)

    def sort(self) -> None:
        self.contacts.sort(key=lambda c: c.get("LastModifiedDate") or "", reverse=True)
        self.persons.sort(key=lambda c: c.get("LastModifiedDate") or "", reverse=True)


def look_up(plan: LookupPlan, api: SalesforceClient, config: SyncConfig = SyncConfig()) -> Found:
    """Run the lookups: one plain query when one suffices, else Composites of up to five queries."""
    found = Found()
    queries = plan.queries(config)
    if len(queries) == 1:
        kind, soql = queries[0]
        found.add(kind, api.query(soql))
    for start in range(0, len(queries) if len(queries) > 1 else 0, COMPOSITE_QUERIES):
        chunk = queries[start : start + COMPOSITE_QUERIES]
        subrequests = [{"method": "GET", "url": "query?" + urllib.parse.urlencode({"q": soql}), "referenceId": f"q{i}"}
                       for i, (_, soql) in enumerate(chunk)]  # fmt: skip
        results = api.composite(subrequests)
        for i, (kind, _) in enumerate(chunk):
            result = results[f"q{i}"]
            if result["httpStatusCode"] >= 400:
                raise _subrequest_error(result)
            page = result["body"]
            found.add(kind, page["records"])
            while not page.get("done", True) and page.get("nextRecordsUrl"):
                page = api.request("GET", page["nextRecordsUrl"]).json()
                found.add(kind, page["records"])
    found.sort()
    return found


def _subrequest_error(result: Mapping[str, Any]) -> SalesforceError:
    body = result.get("body")
    first = body[0] if isinstance(body, list) and body and isinstance(body[0], dict) else {}
    return SalesforceError(result["httpStatusCode"], first.get("errorCode", "UNKNOWN"), first.get("message", ""))


@dataclass(frozen=True)
class Match:
    contact_id: str | None = None
    account_id: str | None = None
    owner_id: str | None = None
    contact_last_at: str | None = None  # the Contact's NPS_Last_Responded_At__c before this batch
    person_account: bool = False  # the contact is a Person Account: its NPS fields are written on the Account
    email_opted_out: bool = False  # any Contact (or Person Account) with the address, or the explicit one, opted out
    marketing_consent: bool | None = None  # the matched Contact's consent field, when one is configured


def match(event: ScoredEvent, found: Found, consent_field: str | None = None) -> Match:
    """Explicit ids win over the email match; a malformed or unknown id falls back to it.

    When several Contacts share an email, the most recently modified wins (the lookups come newest first).
    """
    r = event.response
    by_id = {c["Id"][:15]: c for c in found.contacts}
    explicit_contact = by_id.get(salesforce_id(r.contact_id, "003") or "")
    contact, person = explicit_contact, None
    email = (r.email or "").lower()
    same = [c for c in found.contacts if email and (c.get("Email") or "").lower() == email]
    persons = [p for p in found.persons if email and (p.get("PersonEmail") or "").lower() == email]
    if contact is None and email:
        if len(same) > 1:
            logger.info("several contacts share the respondent's email; the most recently modified wins",
                        extra={"response_id": r.response_id, "contacts": len(same)})  # fmt: skip
        contact = same[0] if same else None
        if contact is None:
            person = persons[0] if persons else None
    opted_out = any(c.get("HasOptedOutOfEmail") for c in same + ([explicit_contact] if explicit_contact else [])) \
        or any(p.get("PersonHasOptedOutOfEmail") for p in persons)
    explicit = found.accounts.get(salesforce_id(r.account_id, "001") or "")
    if person is not None:
        account_id, owner = person["Id"], person.get("OwnerId")
        return Match(person.get("PersonContactId"), account_id, owner, person.get("NPS_Last_Responded_At__pc"), True,
                     opted_out)  # fmt: skip
    if explicit is not None:
        account_id, owner = explicit["Id"], explicit.get("OwnerId")
    else:
        account_id = (contact or {}).get("AccountId")
        owner = ((contact or {}).get("Account") or {}).get("OwnerId")
    if contact is None:
        return Match(None, account_id, owner, email_opted_out=opted_out)
    consent = bool(contact.get(consent_field)) if consent_field else None
    return Match(contact["Id"], account_id, owner, contact.get("NPS_Last_Responded_At__c"),
                 email_opted_out=opted_out, marketing_consent=consent)  # fmt: skip


# --- call 2: writes -----------------------------------------------------------------------------------------------
def nps_record(event: ScoredEvent, found: Match) -> dict[str, Any]:
    """The NPS_Response__c fields for one response."""
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
        EMAIL_FIELD: r.email,
        "Contact__c": found.contact_id,
        "Account__c": found.account_id,
        **({"Themes__c": ", ".join(event.themes)[:255]} if event.themes else {}),
        **({"Sentiment__c": event.sentiment.lower()} if event.sentiment else {}),
    }


def _when(value: str | None) -> datetime | None:
    """A Salesforce datetime (2026-08-14T09:00:00.000+0000) as an aware datetime."""
    if not value:
        return None
    return datetime.fromisoformat(re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", value.replace("Z", "+00:00")))


def contact_updates(latest: Mapping[str, ScoredEvent], matches: Mapping[str, Match]) -> list[dict[str, Any]]:
    """Contact NPS fields: the latest answer per contact wins, within the batch and against what the Contact has."""
    newest: dict[str, tuple[ScoredEvent, Match]] = {}
    for rid, event in latest.items():
        m = matches[rid]
        if not m.contact_id:
            continue
        key = m.account_id if m.person_account else m.contact_id
        if key not in newest or event.period_time > newest[key][0].period_time:
            newest[key] = (event, m)
    out = []
    for key, (event, m) in newest.items():
        before = _when(m.contact_last_at)
        if before is not None and before >= event.period_time:
            continue
        suffix, sobject = ("__pc", "Account") if m.person_account else ("__c", "Contact")
        values = (event.response.score, event.category.value, iso(event.period_time))
        fields = {f"{name}{suffix}": value for name, value in zip(LAST_ANSWER_FIELDS, values, strict=True)}
        out.append({"attributes": {"type": sobject}, "id": key, **fields})
    return out


def account_updates(account_nps: Mapping[str, tuple[float | None, int]], now: datetime) -> list[dict[str, Any]]:
    """Account NPS fields over the rolling 12 months: (nps, responses) per account id."""
    return [{"attributes": {"type": "Account"}, "id": account_id, "NPS_12M__c": None if nps is None else round(nps, 1),
             "NPS_Responses_12M__c": responses, "NPS_Updated_At__c": iso(now)}
            for account_id, (nps, responses) in account_nps.items()]  # fmt: skip


def task_record(event: ScoredEvent, m: Match, today: date) -> dict[str, Any]:
    r = event.response
    lines = [f"NPS score {r.score}/10 (detractor) via {r.source}.", f"Comment: {r.comment or '(none)'}",
             f"Touchpoint: {r.touchpoint or '-'}", f"Response: {r.response_id}"]  # fmt: skip
    task: dict[str, Any] = {"attributes": {"type": "Task"}, "Subject": task_subject(event),
                            "Description": "\n".join(lines), "ActivityDate": due_date(today).isoformat(),
                            "Priority": "High", "Status": "Not Started"}  # fmt: skip
    if m.owner_id:
        task["OwnerId"] = m.owner_id
    if m.contact_id and not m.person_account:
        task["WhoId"] = m.contact_id
    if m.account_id:
        task["WhatId"] = m.account_id
    return task


def lead_record(event: ScoredEvent) -> dict[str, Any]:
    r = event.response
    last_name = r.name or (r.email or "").split("@")[0] or "NPS respondent"
    return {"attributes": {"type": "Lead"}, "LastName": last_name[:80], "Email": r.email, "Company": "[not provided]",
            "LeadSource": LEAD_SOURCE, "Status": "Open - Not Contacted"}  # fmt: skip


@dataclass
class WritePlan:
    """Everything call 2 writes, with which response each record belongs to."""

    nps: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)
    accounts: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    leads: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def plan_writes(
    latest: Mapping[str, ScoredEvent],
    matches: Mapping[str, Match],
    found: Found,
    account_nps: Mapping[str, tuple[float | None, int]],
    config: SyncConfig,
    now: datetime,
) -> WritePlan:
    plan = WritePlan()
    for rid, event in latest.items():
        m = matches[rid]
        plan.nps.append((rid, nps_record(event, m)))
        if wants_task(event, config) and task_subject(event) not in found.task_subjects:
            plan.tasks.append((rid, task_record(event, m, now.date())))
        email = (event.response.email or "").lower()
        if config.unmatched == "lead" and m.contact_id is None and email and email not in found.lead_emails:
            if email not in {(lead.get("Email") or "").lower() for _, lead in plan.leads}:
                plan.leads.append((rid, lead_record(event)))
    plan.contacts = contact_updates(latest, matches)
    plan.accounts = account_updates(account_nps, now)
    return plan


@dataclass
class SyncOutcome:
    synced: dict[str, Match] = field(default_factory=dict)  # response id -> what it was linked to
    record_ids: dict[str, str] = field(default_factory=dict)  # response id -> its NPS_Response__c id
    rejected: dict[str, SalesforceError] = field(default_factory=dict)  # for good: to the DLQ
    retry: dict[str, SalesforceError] = field(default_factory=dict)  # may succeed later: back to the queue
    side_errors: list[SalesforceError] = field(default_factory=list)  # Contact/Account updates that were refused


def _collections(plan: WritePlan) -> list[tuple[str, dict[str, Any]]]:
    """(reference id, subrequest) per collection of at most 200 records; NPS upserts first."""
    nps = [{"attributes": {"type": NPS_OBJECT}, **r} for _, r in plan.nps]
    kinds = [
        ("nps", nps, "PATCH", f"composite/sobjects/{NPS_OBJECT}/{EXTERNAL_ID}"),
        ("contacts", plan.contacts, "PATCH", "composite/sobjects"),
        ("accounts", plan.accounts, "PATCH", "composite/sobjects"),
        ("tasks", [r for _, r in plan.tasks], "POST", "composite/sobjects"),
        ("leads", [r for _, r in plan.leads], "POST", "composite/sobjects"),
    ]
    subrequests = []
    for name, records, method, url in kinds:
        for start in range(0, len(records), COLLECTION_SIZE):
            body = {"allOrNone": False, "records": records[start : start + COLLECTION_SIZE]}
            subrequests.append((f"{name}{start}", {"method": method, "url": url, "body": body}))
    return subrequests


def write(plan: WritePlan, matches: Mapping[str, Match], api: SalesforceClient) -> SyncOutcome:
    """Run the writes in Composites of up to five collections; sort each response's outcome.

    A response is synced when its NPS record, its Task or Lead, and its Contact and Account updates all went
    through; a retryable failure of any of them brings the response back (the redelivery upserts the same
    record and finds the Task it already made); a record Salesforce refuses for good is rejected.
    """
    outcome = SyncOutcome()
    subrequests = _collections(plan)
    results: dict[str, dict[str, Any]] = {}
    for start in range(0, len(subrequests), COMPOSITE_QUERIES):
        chunk = subrequests[start : start + COMPOSITE_QUERIES]
        results.update(api.composite([{**sub, "referenceId": ref} for ref, sub in chunk]))

    def errors(prefix: str, owners: Sequence[str]) -> Iterable[tuple[str, SalesforceError | None]]:
        for start in range(0, len(owners), COLLECTION_SIZE):
            result = results[f"{prefix}{start}"]
            chunk = owners[start : start + COLLECTION_SIZE]
            if result["httpStatusCode"] >= 400 or not isinstance(result["body"], list):
                error = _subrequest_error(result)
                yield from ((owner, error) for owner in chunk)
            else:
                yield from ((owner, _item_error(item)) for owner, item in zip(chunk, result["body"], strict=True))

    for start in range(0, len(plan.nps), COLLECTION_SIZE):
        body = results[f"nps{start}"].get("body")
        if isinstance(body, list):
            chunk = plan.nps[start : start + COLLECTION_SIZE]
            outcome.record_ids.update(
                (rid, item["id"]) for (rid, _), item in zip(chunk, body, strict=True) if item.get("id")
            )
    for rid, error in errors("nps", [rid for rid, _ in plan.nps]):
        if error is None:
            outcome.synced[rid] = matches[rid]
        else:
            (outcome.retry if error.retryable else outcome.rejected)[rid] = error
    by_record: dict[str, list[str]] = {}
    for rid, m in matches.items():
        for record_id in (m.contact_id, m.account_id):
            if record_id:
                by_record.setdefault(record_id, []).append(rid)
    side = [
        *errors("tasks", [rid for rid, _ in plan.tasks]),
        *errors("leads", [rid for rid, _ in plan.leads]),
        *(
            (rid, e)
            for record_id, e in errors("contacts", [r["id"] for r in plan.contacts])
            for rid in by_record[record_id]
        ),
        *(
            (rid, e)
            for record_id, e in errors("accounts", [r["id"] for r in plan.accounts])
            for rid in by_record[record_id]
        ),
    ]
    for rid, error in side:
        if error is None:
            continue
        if error.retryable and rid in outcome.synced:
            del outcome.synced[rid]
            outcome.retry[rid] = error
        elif not error.retryable:
            outcome.side_errors.append(error)
    return outcome


def _item_error(result: Mapping[str, Any]) -> SalesforceError | None:
    if result.get("success"):
        return None
    first = (result.get("errors") or [{}])[0]
    return SalesforceError(400, first.get("statusCode", "UNKNOWN"), first.get("message", ""))


def now_utc() -> datetime:
    return datetime.now(UTC)
