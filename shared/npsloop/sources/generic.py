"""npsloop's own documented JSON, signed with Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)."""

from __future__ import annotations

from collections.abc import Mapping

from npsloop.mapping import SourceMapping
from npsloop.models import CanonicalResponse
from npsloop.sources.base import JSON, Delivery, canonical, json_object, vendor_id
from npsloop.sources.standard_webhooks import verify_standard_webhooks

NAME = "generic"
CONTENT_TYPES = (JSON,)
OPTIONAL = (
    "email", "name", "comment", "contact_id", "account_id", "touchpoint", "campaign", "locale",
    "responded_at", "updated_at", "attributes",
)  # fmt: skip


def verify(delivery: Delivery, secret: Mapping[str, str]) -> None:
    """Standard Webhooks over the raw bytes, with the 5-minute timestamp tolerance against replays."""
    verify_standard_webhooks(delivery, secret, NAME)


def parse(delivery: Delivery, mapping: SourceMapping | None = None) -> CanonicalResponse:
    """Our own format needs no mapping: its fields are named as the canonical response's."""
    data = json_object(delivery.body)
    vendor = vendor_id(data.get("response_id"), "response_id")
    fields = {key: data[key] for key in OPTIONAL if key in data}
    return canonical({"response_id": f"{NAME}:{vendor}", "source": NAME, "score": data.get("score"), **fields})
