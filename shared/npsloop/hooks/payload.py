"""The flat payload of a hook event: one level of plainly named fields that read well in the Zap editor."""

from __future__ import annotations

import hashlib
from typing import Any

from npsloop.models import ScoredEvent, iso


def events_for(event: ScoredEvent) -> list[str]:
    return ["response.created", f"response.{event.category.value.lower()}"]


def flat(event: ScoredEvent, previous_category: str | None = None) -> dict[str, Any]:
    """`id` is the response id: stable, so Zapier deduplicates on it; attributes become `attribute_<name>`."""
    r = event.response
    out: dict[str, Any] = {
        "id": r.response_id,
        "score": r.score,
        "category": event.category.value.lower(),
        "comment": r.comment or "",
        "email": r.email or "",
        "name": r.name or "",
        "source": r.source,
        "touchpoint": r.touchpoint or "",
        "campaign": r.campaign or "",
        "locale": r.locale or "",
        "contact_id": r.contact_id or "",
        "account_id": r.account_id or "",
        "responded_at": iso(event.period_time),
        "received_at": iso(event.received_at),
        "previous_category": (previous_category or "").lower(),
        "turned_detractor": event.category.value == "Detractor" and previous_category in ("Promoter", "Passive"),
    }
    for name, value in sorted(r.attributes.items()):
        key = "attribute_" + "".join(c if c.isalnum() else "_" for c in name.lower())
        out.setdefault(key, value)
    return out


def webhook_id(subscription_id: str, response_id: str, event: str) -> str:
    """The Standard Webhooks message id: the same for every retry (and every re-run) of one delivery."""
    return "msg_" + hashlib.sha256(f"{subscription_id}|{response_id}|{event}".encode()).hexdigest()[:32]


SAMPLE: dict[str, Any] = {
    "id": "generic:sample-1", "score": 3, "category": "detractor", "comment": "Setup took too long.",
    "email": "ada@example.com", "name": "Ada Lovelace", "source": "generic", "touchpoint": "onboarding",
    "campaign": "", "locale": "en", "contact_id": "", "account_id": "", "responded_at": "2026-01-05T10:00:00Z",
    "received_at": "2026-01-05T10:00:01Z", "previous_category": "promoter", "turned_detractor": True,
}  # fmt: skip
