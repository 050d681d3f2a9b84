"""Webhooks by Zapier (POST, JSON or form): the flat keys the Zap maps, `score` (or `nps`) by default; Zapier cannot
sign, so it authenticates with the per-source token."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from npsloop.mapping import SourceMapping
from npsloop.models import CanonicalResponse
from npsloop.sources.base import (
    FORM,
    JSON,
    Answer,
    Delivery,
    Extracted,
    Rules,
    check_token,
    fields_of,
    to_response,
    vendor_id,
)

NAME = "zapier"
CONTENT_TYPES = (JSON, FORM)
KINDS = {"score": "nps", "nps": "nps", "email": "email", "comment": "comment", "feedback": "comment"}
RESERVED = ("response_id", "id", "responded_at", "submitted_at", "updated_at")
RULES = Rules(scale_types=("nps",), email_types=("email",), comment_types=("comment",), numeric_text=True)


def verify(delivery: Delivery, secret: Mapping[str, str]) -> None:
    check_token(delivery, secret, NAME)


def parse(delivery: Delivery, mapping: SourceMapping | None = None) -> CanonicalResponse:
    fields = fields_of(delivery, delivery.media_type)
    given = fields.get("response_id") or fields.get("id")
    if given in (None, ""):
        # Zapier has no event id: the content itself identifies the answer, so an Autoreplay is a duplicate
        given = hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:32]
    response = vendor_id(given, "response_id")
    flat: dict[str, Any] = {str(k): v for k, v in fields.items() if k not in RESERVED}
    answers = [Answer(id=key, value=value, type=KINDS.get(key.lower()), ref=key) for key, value in flat.items()]
    extracted = Extracted(NAME, response, answers, hidden=flat,
                          responded_at=fields.get("responded_at") or fields.get("submitted_at"),
                          updated_at=fields.get("updated_at"))  # fmt: skip
    return to_response(extracted, mapping, RULES)
