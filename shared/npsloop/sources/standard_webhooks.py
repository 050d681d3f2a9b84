"""Standard Webhooks verification (generic and Formbricks): HMAC-SHA256 over id, timestamp and body, 5 min tolerance."""

from __future__ import annotations

from collections.abc import Mapping

from npsloop.errors import SignatureError
from npsloop.sources.base import Delivery, required_secret


def verify_standard_webhooks(delivery: Delivery, secret: Mapping[str, str], source: str) -> None:
    """The `standardwebhooks` library checks the signature in constant time and refuses timestamps off by > 5 min."""
    from standardwebhooks import Webhook

    signing_secret = required_secret(secret, "signing_secret", source)
    try:
        Webhook(signing_secret).verify(delivery.body, dict(delivery.headers), json_parse=False)
    except Exception as exc:  # the library raises several types for bad headers, encodings and signatures
        raise SignatureError(f"Standard Webhooks signature check failed: {exc or type(exc).__name__}") from None
