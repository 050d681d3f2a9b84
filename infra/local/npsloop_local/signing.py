"""Signing deliveries as the survey tools do, for the curl line the stack prints and for `npsloop send`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import shlex
import time
import uuid
from datetime import UTC, datetime

from standardwebhooks import Webhook

SAMPLE_TYPEFORM = {
    "event_id": "local-example", "event_type": "form_response",
    "form_response": {
        "form_id": "local", "token": "local-example-1", "submitted_at": "2026-11-22T10:00:00Z",
        "hidden": {"touchpoint": "onboarding"},
        "answers": [{"type": "number", "number": 9, "field": {"id": "nps", "type": "opinion_scale"}},
                    {"type": "email", "email": "ada@example.com", "field": {"id": "mail", "type": "email"}},
                    {"type": "text", "text": "Quick and friendly", "field": {"id": "why", "type": "long_text"}}],
    },
}  # fmt: skip


def typeform_signature(secret: str, body: bytes) -> str:
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def standard_webhooks_headers(secret: str, body: bytes, msg_id: str | None = None) -> dict[str, str]:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time())
    signature = Webhook(secret).sign(msg_id, datetime.fromtimestamp(timestamp, UTC), body.decode())
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), "webhook-signature": signature}


def hmac_base64(key: bytes, body: bytes, digest: str = "sha256") -> str:
    return base64.b64encode(hmac.new(key, body, digest).digest()).decode()


def sign(source: str, body: bytes, secret: dict[str, str]) -> dict[str, str]:
    """The headers that authenticate `body` as `source` sends it, with that source's part of the secret.

    Qualtrics signs inside the form body instead: see `qualtrics_form`.
    """
    if source == "typeform":
        return {"Typeform-Signature": typeform_signature(secret["signing_secret"], body)}
    if source == "tally":
        return {"Tally-Signature": hmac_base64(secret["signing_secret"].encode(), body)}
    if source == "survicate":
        return {"Hmac": hmac.new(secret["signing_secret"].encode(), body, hashlib.sha256).hexdigest()}
    if source == "surveymonkey":
        key = f"{secret.get('api_key') or secret.get('client_id')}&{secret['api_secret']}".encode()
        return {"Sm-Signature": hmac_base64(key, body, "sha1"), "Sm-Apikey": secret.get("api_key", "")}
    if source in ("formbricks", "generic"):
        return standard_webhooks_headers(secret["signing_secret"], body)
    if source in ("jotform", "trustmary", "zapier"):
        return {"X-Npsloop-Token": secret["token"]}
    return {}


def qualtrics_form(message: dict, shared_key: str, survey_id: str = "SV_local") -> bytes:
    """A Qualtrics event-subscription body: Topic, MSG (JSON) and HMAC (hex HMAC-SHA512 of MSG)."""
    from urllib.parse import urlencode

    msg = json.dumps(message, separators=(",", ":"))
    mac = hmac.new(shared_key.encode(), msg.encode(), hashlib.sha512).hexdigest()
    return urlencode({"Topic": f"local.surveyengine.completedResponse.{survey_id}", "MSG": msg, "HMAC": mac}).encode()


def typeform_curl(api_url: str, secret: str) -> str:
    body = json.dumps(SAMPLE_TYPEFORM, separators=(",", ":"))
    return (
        f"curl -sS -X POST {api_url}/webhooks/typeform -H 'Content-Type: application/json' "
        f"-H 'Typeform-Signature: {typeform_signature(secret, body.encode())}' --data {shlex.quote(body)}"
    )
