"""Typeform's form_response webhook: the 0-10 answer is the opinion-scale (or NPS) question; Typeform-Signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from npsloop.errors import MalformedPayloadError, NoNpsAnswerError, SignatureError
from npsloop.models import CanonicalResponse
from npsloop.sources.base import Delivery, canonical, json_object, required_secret

NAME = "typeform"
SCORE_FIELD_TYPES = ("nps", "opinion_scale")  # in order of preference
HIDDEN_FIELDS = ("contact_id", "account_id", "touchpoint", "campaign", "locale", "name", "email")


def verify(delivery: Delivery, secret: Mapping[str, str]) -> None:
    """`Typeform-Signature: sha256=` + base64(HMAC-SHA256(secret, raw body)), compared in constant time."""
    key = required_secret(secret, "signing_secret", NAME)
    expected = "sha256=" + base64.b64encode(hmac.new(key.encode(), delivery.body, hashlib.sha256).digest()).decode()
    given = delivery.header("typeform-signature") or ""
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise SignatureError("Typeform-Signature is missing or does not match the body")


def _answer_text(answer: Mapping[str, Any]) -> str | None:
    value = answer.get(answer.get("type", ""))
    return value if isinstance(value, str) else None


def parse(delivery: Delivery) -> CanonicalResponse:
    data = json_object(delivery.body)
    form = data.get("form_response")
    if not isinstance(form, dict):
        raise MalformedPayloadError("form_response is required: a JSON object", field="form_response")
    token = form.get("token")
    if not isinstance(token, str) or not token:
        raise MalformedPayloadError("form_response.token is required", field="form_response.token")
    answers = [a for a in form.get("answers") or [] if isinstance(a, dict) and isinstance(a.get("field"), dict)]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for answer in answers:
        by_type.setdefault(str(answer["field"].get("type")), []).append(answer)

    score_answer = next((by_type[t][0] for t in SCORE_FIELD_TYPES if by_type.get(t)), None)
    if score_answer is None:
        raise NoNpsAnswerError("no NPS answer")
    hidden = {k: v for k, v in (form.get("hidden") or {}).items() if isinstance(k, str)}
    email = next((_answer_text(a) for a in by_type.get("email", [])), None) or hidden.get("email")
    comment = next((_answer_text(a) for a in by_type.get("long_text", [])), None)
    attributes = {k: v for k, v in hidden.items() if k not in HIDDEN_FIELDS}
    if form.get("form_id"):
        attributes["form_id"] = form["form_id"]
    return canonical(
        {
            "response_id": f"{NAME}:{token}",
            "source": NAME,
            "score": score_answer.get("number"),
            "email": email,
            "comment": comment,
            "responded_at": form.get("submitted_at"),
            "attributes": attributes,
            **{k: hidden.get(k) for k in HIDDEN_FIELDS if k not in ("email",)},
        },
        where={"score": "form_response.answers[opinion_scale].number", "email": "email"},
    )
