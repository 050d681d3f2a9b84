"""Typeform's form_response webhook: the 0-10 answer is the NPS or opinion-scale question; Typeform-Signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from npsloop.errors import MalformedPayloadError, SignatureError
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
    obj,
    required_secret,
    same,
    to_response,
    vendor_id,
)

NAME = "typeform"
CONTENT_TYPES = (JSON,)
RULES = Rules(scale_types=("nps", "opinion_scale"), email_types=("email",), comment_types=("long_text", "short_text"))


def verify(delivery: Delivery, secret: Mapping[str, str]) -> None:
    """`Typeform-Signature: sha256=` + base64(HMAC-SHA256(secret, raw body)), compared in constant time."""
    key = required_secret(secret, "signing_secret", NAME)
    expected = "sha256=" + base64.b64encode(hmac.new(key.encode(), delivery.body, hashlib.sha256).digest()).decode()
    if not same(expected, delivery.header("typeform-signature")):
        raise SignatureError("Typeform-Signature is missing or does not match the body")


def _value(answer: Mapping[str, Any]) -> Any:
    """The answer's value sits under the key its `type` names; choices give their label."""
    kind = answer.get("type")
    value = answer.get(kind) if isinstance(kind, str) else None
    if kind == "choice":
        return obj(value).get("label")
    if kind == "choices":
        labels = obj(value).get("labels")
        return ", ".join(str(x) for x in labels) if isinstance(labels, list) else None
    return value


def parse(delivery: Delivery, mapping: SourceMapping | None = None) -> CanonicalResponse:
    data = json_object(delivery.body)
    form = data.get("form_response")
    if not isinstance(form, dict):
        raise MalformedPayloadError("form_response is required: a JSON object", field="form_response")
    token = vendor_id(form.get("token"), "form_response.token")
    titles = {str(f.get("id")): f.get("title") for f in items(obj(form.get("definition")).get("fields"))}
    answers = []
    for answer in items(form.get("answers")):
        question = obj(answer.get("field"))
        qid = str(question.get("id", ""))
        title = titles.get(qid)
        answers.append(Answer(id=qid, value=_value(answer), type=_str(question.get("type")),
                              ref=_str(question.get("ref")), title=_str(title)))  # fmt: skip
    attributes = {"form_id": form["form_id"]} if isinstance(form.get("form_id"), str) else {}
    extracted = Extracted(NAME, token, answers, hidden=obj(form.get("hidden")), responded_at=form.get("submitted_at"),
                          attributes=attributes)  # fmt: skip
    return to_response(extracted, mapping, RULES)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
