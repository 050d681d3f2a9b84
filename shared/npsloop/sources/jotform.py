"""Jotform's webhook: multipart/form-data whose rawRequest part holds the answers as "q<N>_<name>" entries; Jotform
cannot sign, so it authenticates with the per-source token."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from npsloop.errors import MalformedPayloadError
from npsloop.mapping import SourceMapping
from npsloop.models import CanonicalResponse
from npsloop.sources.base import (
    FORM,
    MULTIPART,
    Answer,
    Delivery,
    Extracted,
    Rules,
    check_token,
    fields_of,
    to_response,
    vendor_id,
)

NAME = "jotform"
CONTENT_TYPES = (MULTIPART, FORM)
ANSWER_KEY = re.compile(r"^q(\d+)_(.+)$")
NPS_NAME = re.compile(r"nps|recommend|likely", re.IGNORECASE)
EMAIL_NAME = re.compile(r"e-?mail", re.IGNORECASE)
COMMENT_NAME = re.compile(r"comment|feedback|reason|why", re.IGNORECASE)
# Jotform sends every value as text and no question types: a question named like "nps"/"recommend" wins, else the
# only answer that is an integer 0-10.
RULES = Rules(scale_types=("nps",), email_types=("email",), comment_types=("comment",), numeric_fallback=True,
              numeric_text=True)  # fmt: skip


def verify(delivery: Delivery, secret: Mapping[str, str]) -> None:
    check_token(delivery, secret, NAME)


def _kind(name: str, value: Any) -> str | None:
    if NPS_NAME.search(name):
        return "nps"
    if EMAIL_NAME.search(name):
        return "email"
    if COMMENT_NAME.search(name):
        return "comment"
    return None


def parse(delivery: Delivery, mapping: SourceMapping | None = None) -> CanonicalResponse:
    fields = fields_of(delivery, delivery.media_type)
    submission = vendor_id(fields.get("submissionID"), "submissionID")
    try:
        raw = json.loads(fields.get("rawRequest") or "{}")
    except (ValueError, RecursionError):
        raise MalformedPayloadError("rawRequest is not JSON", field="rawRequest") from None
    if not isinstance(raw, dict):
        raise MalformedPayloadError("rawRequest must be a JSON object", field="rawRequest")
    answers: list[Answer] = []
    hidden: dict[str, Any] = {}
    for key, value in raw.items():
        found = ANSWER_KEY.match(str(key))
        if not found:
            continue
        number, name = found.groups()
        answers.append(Answer(id=number, value=value, type=_kind(name, value), ref=name, title=name))
        if isinstance(value, str):
            hidden[name] = value
    attributes = {"form_id": fields["formID"]} if fields.get("formID") else {}
    extracted = Extracted(NAME, submission, answers, hidden=hidden, attributes=attributes,
                          other_hidden_as_attributes=False)  # fmt: skip
    return to_response(extracted, mapping, RULES)
