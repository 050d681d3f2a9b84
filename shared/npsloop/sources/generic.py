"""npsloop's own documented JSON, signed with Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)."""

from __future__ import annotations

from collections.abc import Mapping

from standardwebhooks import Webhook

from npsloop.errors import MalformedPayloadError, SignatureError
from npsloop.models import CanonicalResponse
from npsloop.sources.base import Delivery, canonical, json_object, required_secret

NAME = "generic"
OPTIONAL = (
    "email", "name", "comment", "contact_id", "account_id", "touchpoint", "campaign", "locale",
    "responded_at", "updated_at", "attributes",
)  # fmt: skip


def verify(delivery: Delivery, secret: Mapping[str, str]) -> None:
    """Standard Webhooks over the raw bytes; the library also enforces the 5-minute timestamp tolerance."""
    signing_secret = required_secret(secret, "signing_secret", NAME)
    try:
        Webhook(signing_secret).verify(delivery.body, dict(delivery.headers), json_parse=False)
    except Exception as exc:  # the library raises several types for bad headers, encodings and signatures
        raise SignatureError(f"Standard Webhooks signature check failed: {exc or type(exc).__name__}") from None


def parse(delivery: Delivery) -> CanonicalResponse:
    data = json_object(delivery.body)
    vendor_id = data.get("response_id")
    if isinstance(vendor_id, int) and not isinstance(vendor_id, bool):
        vendor_id = str(vendor_id)
    if not isinstance(vendor_id, str) or not vendor_id.strip():
        raise MalformedPayloadError("response_id is required: a non-empty string", field="response_id")
    fields = {key: data[key] for key in OPTIONAL if key in data}
    return canonical(
        {"response_id": f"{NAME}:{vendor_id.strip()}", "source": NAME, "score": data.get("score"), **fields}
    )
