"""What notify asks Salesforce about respondents for alerts routed to the account owner: one query per SQS batch.

(The thank-you email asks nothing: the sync's lookup learned opt-out and consent, see LinkedEvent.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from npsloop.models import ScoredEvent
from npsloop.salesforce.client import SalesforceClient
from npsloop.salesforce.sync import chunked_queries, salesforce_id


@dataclass(frozen=True)
class ContactFacts:
    contact_id: str | None = None
    account_id: str | None = None
    owner_email: str | None = None


def lookup(events: Sequence[ScoredEvent], api: SalesforceClient) -> dict[str, ContactFacts]:
    """Facts per response id, from the Contacts matched by explicit id or by email (newest first)."""
    ids = sorted({cid for e in events if (cid := salesforce_id(e.response.contact_id, "003"))})
    emails = sorted({e.response.email.lower() for e in events if e.response.email})
    if not ids and not emails:
        return {}
    select = "SELECT Id, Email, AccountId, Account.Owner.Email FROM Contact"
    records: list[dict[str, Any]] = []
    for soql in chunked_queries(select, {"Id": ids, "Email": emails}, " ORDER BY LastModifiedDate DESC"):
        records.extend(api.query(soql))
    out: dict[str, ContactFacts] = {}
    for event in events:
        r = event.response
        explicit = salesforce_id(r.contact_id, "003")
        by_id = [c for c in records if explicit and c["Id"][:15] == explicit]
        by_email = [c for c in records if r.email and (c.get("Email") or "").lower() == r.email.lower()]
        chosen = (by_id or by_email or [None])[0]
        if chosen is None:
            continue
        owner = ((chosen.get("Account") or {}).get("Owner") or {}).get("Email")
        out[r.response_id] = ContactFacts(chosen["Id"], chosen.get("AccountId"), owner)
    return out
