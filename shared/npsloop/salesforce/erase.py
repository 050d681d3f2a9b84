"""Erase one person from the org (`npsloop erase`): their NPS_Response__c records, and the detractor Tasks and Leads
npsloop made from them, are deleted; the NPS fields of Contacts with their address are cleared.

The records are found by the respondent's address (`Email__c`, compared case-insensitively as SOQL does) and by the
ids of the responses npsloop erased (an answer that named the person only in its comment). Deletes go through sObject
Collections, 200 ids a call, into the org's Recycle Bin (emptied after 15 days, or at once by an admin).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from npsloop.salesforce.client import SalesforceClient
from npsloop.salesforce.sync import (
    COLLECTION_SIZE,
    EMAIL_FIELD,
    EXTERNAL_ID,
    LAST_ANSWER_FIELDS,
    LEAD_SOURCE,
    NPS_OBJECT,
    chunked_queries,
    subject_of,
)
from npsloop.scoring import Category, classify

ALREADY_GONE = "ENTITY_IS_DELETED"


@dataclass
class SalesforceErasure:
    responses: int = 0  # NPS_Response__c records deleted
    tasks: int = 0  # detractor Tasks deleted
    leads: int = 0  # Leads npsloop created (LeadSource NPS) deleted
    contacts: int = 0  # Contacts whose NPS fields were cleared
    failed: list[str] = field(default_factory=list)  # "<id>: <code>" for what the org refused


def erase(api: SalesforceClient, email: str, response_ids: Sequence[str]) -> SalesforceErasure:
    address = email.strip()
    out = SalesforceErasure()
    select = f"SELECT Id, {EXTERNAL_ID}, Score__c FROM {NPS_OBJECT}"  # noqa: S608 # nosec B608 (constants; values escaped below)
    nps = _all(api, chunked_queries(select, {EMAIL_FIELD: [address], EXTERNAL_ID: list(response_ids)}))
    subjects = [subject_of(int(r["Score__c"]), r[EXTERNAL_ID]) for r in nps
                if r.get("Score__c") is not None and classify(int(r["Score__c"])) is Category.DETRACTOR]  # fmt: skip
    tasks = _all(api, chunked_queries("SELECT Id FROM Task", {"Subject": subjects})) if subjects else []
    leads = [r for r in _all(api, chunked_queries("SELECT Id, LeadSource FROM Lead", {"Email": [address]}))
             if r.get("LeadSource") == LEAD_SOURCE]  # fmt: skip
    out.responses = _delete(api, [r["Id"] for r in nps], out.failed)
    out.tasks = _delete(api, [r["Id"] for r in tasks], out.failed)
    out.leads = _delete(api, [r["Id"] for r in leads], out.failed)
    contacts = _all(api, chunked_queries("SELECT Id FROM Contact", {"Email": [address]}))
    cleared = {f"{name}__c": None for name in LAST_ANSWER_FIELDS}
    for start in range(0, len(contacts), COLLECTION_SIZE):
        records = [{"attributes": {"type": "Contact"}, "id": c["Id"], **cleared}
                   for c in contacts[start : start + COLLECTION_SIZE]]  # fmt: skip
        results = api.request("PATCH", api.data_path("composite/sobjects"),
                              json={"allOrNone": False, "records": records}).json()  # fmt: skip
        out.contacts += _count(results, [r["id"] for r in records], out.failed)
    return out


def _all(api: SalesforceClient, queries: list[str]) -> list[dict[str, Any]]:
    return [record for soql in queries for record in api.query(soql)]


def _delete(api: SalesforceClient, ids: list[str], failed: list[str]) -> int:
    done = 0
    for start in range(0, len(ids), COLLECTION_SIZE):
        chunk = ids[start : start + COLLECTION_SIZE]
        done += _count(api.delete(chunk), chunk, failed)
    return done


def _count(results: list[dict[str, Any]], ids: list[str], failed: list[str]) -> int:
    """Successes (a record already deleted counts: it is gone); refusals are noted with their code."""
    done = 0
    for record_id, result in zip(ids, results, strict=True):
        codes = [e.get("statusCode", "") for e in result.get("errors", [])]
        if result.get("success") or codes == [ALREADY_GONE]:
            done += 1
        else:
            failed.append(f"{record_id}: {', '.join(codes) or 'UNKNOWN'}")
    return done
