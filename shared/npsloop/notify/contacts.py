"""What notify asks Salesforce about respondents, one query per SQS batch: email opt-out, consent, account owner."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from npsloop.models import ScoredEvent
from npsloop.salesforce.client import SalesforceClient
from npsloop.salesforce.sync import chunked_queries, salesforce_id

_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class ContactFacts:
    contact_id: str | None = None
    account_id: str | None = None
    owner_email: str | None = None
    opted_out: bool = False  # HasOptedOutOfEmail on any Contact with the address (or the explicit one)
    consent: bool | None = None  # the configured consent field, when one is configured


def lookup(events: Sequence[ScoredEvent], api: SalesforceClient, consent_field: str | None = None
           ) -> dict[str, ContactFacts]:  # fmt: skip
    """Facts per response id, from the Contacts matched by explicit id or by email (newest first)."""
    ids = sorted({cid for e in events if (cid := salesforce_id(e.response.contact_id, "003"))})
    emails = sorted({e.response.email.lower() for e in events if e.response.email})
    if not ids and not emails:
        return {}
    if consent_field and not _FIELD.match(consent_field):
        raise ValueError(f"consent field {consent_field!r} is not a Salesforce field name")
    extra = f", {consent_field}" if consent_field else ""
    # B608 is safe here: the only interpolation is a field name checked against _FIELD just above
    select = f"SELECT Id, Email, AccountId, Account.Owner.Email, HasOptedOutOfEmail{extra} FROM Contact"  # noqa: S608 # nosec B608
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
        out[r.response_id] = ContactFacts(
            contact_id=chosen["Id"], account_id=chosen.get("AccountId"), owner_email=owner,
            opted_out=any(c.get("HasOptedOutOfEmail") for c in by_id + by_email),
            consent=bool(chosen.get(consent_field)) if consent_field else None,
        )  # fmt: skip
    return out
