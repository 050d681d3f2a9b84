"""Tally's FORM_RESPONSE webhook: the 0-10 answer is the LINEAR_SCALE field; Tally-Signature over the raw body."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from npsloop.errors import MalformedPayloadError, NoNpsAnswerError, SignatureError
from npsloop.mapping import SourceMapping
from npsloop.models import CanonicalResponse
from npsloop.sources.base import (
    JSON,
    Answer,
    Delivery,
    Extracted,
    Rules,
    items,
    json_object,
    required_secret,
    same,
    to_response,
    vendor_id,
)

NAME = "tally"
CONTENT_TYPES = (JSON,)
RULES = Rules(scale_types=("LINEAR_SCALE",), email_types=("INPUT_EMAIL",), comment_types=("TEXTAREA", "INPUT_TEXT"))


def verify(delivery: Delivery, secret: Mapping[str, str]) -> None:
    """`Tally-Signature` = base64(HMAC-SHA256(signing secret, raw body)); Tally signs no timestamp."""
    key = required_secret(secret, "signing_secret", NAME)
    expected = base64.b64encode(hmac.new(key.encode(), delivery.body, hashlib.sha256).digest()).decode()
    if not same(expected, delivery.header("tally-signature")):
        raise SignatureError("Tally-Signature is missing or does not match the body")


def parse(delivery: Delivery, mapping: SourceMapping | None = None) -> CanonicalResponse:
    payload = json_object(delivery.body)
    if payload.get("eventType") not in (None, "FORM_RESPONSE"):
        raise NoNpsAnswerError(f"event {str(payload.get('eventType'))[:50]} is not a form response")
    data = payload.get("data")
    if not isinstance(data, dict):
        raise MalformedPayloadError("data is required: a JSON object", field="data")
    response = vendor_id(data.get("responseId") or data.get("submissionId"), "data.responseId")
    answers: list[Answer] = []
    hidden: dict[str, Any] = {}
    for entry in items(data.get("fields")):
        kind, label = _str(entry.get("type")), _str(entry.get("label"))
        if kind == "HIDDEN_FIELDS" and label:
            hidden[label] = entry.get("value")
        else:
            answers.append(Answer(id=str(entry.get("key", "")), value=entry.get("value"), type=kind, ref=_str(
                entry.get("key")), title=label))  # fmt: skip
    attributes = {"form_id": data["formId"]} if isinstance(data.get("formId"), str) else {}
    extracted = Extracted(NAME, response, answers, hidden=hidden, responded_at=data.get("createdAt"),
                          attributes=attributes)  # fmt: skip
    return to_response(extracted, mapping, RULES)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
