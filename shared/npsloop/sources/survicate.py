"""Survicate's webhooks: one POST per answered question (or per completed survey); an NPS choice carries the score
as its id and promoter/passive/detractor as its body; `Hmac` header over the raw body."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from npsloop.errors import NoNpsAnswerError, SignatureError
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

NAME = "survicate"
CONTENT_TYPES = (JSON,)
NPS_BODIES = ("promoter", "passive", "detractor")
RULES = Rules(scale_types=("nps",), email_types=("email",), comment_types=("comment",))


def verify(delivery: Delivery, secret: Mapping[str, str]) -> None:
    """`Hmac` = lowercase hex HMAC-SHA256(signing secret, raw body); Survicate signs no timestamp."""
    key = required_secret(secret, "signing_secret", NAME)
    expected = hmac.new(key.encode(), delivery.body, hashlib.sha256).hexdigest()
    if not same(expected, (delivery.header("hmac") or "").lower()):
        raise SignatureError("the Hmac header is missing or does not match the body")


def _answers(question: Mapping[str, Any], choice: Mapping[str, Any]) -> list[Answer]:
    qid = str(question.get("id", ""))
    title = question.get("body") if isinstance(question.get("body"), str) else None
    is_nps = str(choice.get("body", "")).lower() in NPS_BODIES
    out = [Answer(id=qid, value=choice.get("id") if is_nps else choice.get("body"), type="nps" if is_nps else None,
                  title=title)]  # fmt: skip
    if isinstance(choice.get("comment"), str):
        out.append(Answer(id=f"{qid}.comment", value=choice["comment"], type="comment", title=title))
    return out


def _attributes(value: Any) -> dict[str, Any]:
    """Respondent attributes, sent as an object or as a list of {name|key, value} entries."""
    if isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for entry in items(value):
        name = entry.get("name") or entry.get("key")
        if isinstance(name, str):
            out[name] = entry.get("value")
    return out


def parse(delivery: Delivery, mapping: SourceMapping | None = None) -> CanonicalResponse:
    data = json_object(delivery.body)
    event = obj(data.get("event"))
    body = obj(event.get("questionAnswered")) or obj(event.get("surveyCompleted"))
    if not body:
        raise NoNpsAnswerError("no NPS answer")
    response = vendor_id(body.get("responseUuid"), "event.questionAnswered.responseUuid")
    answers: list[Answer] = []
    if "question" in body:
        answers += _answers(obj(body.get("question")), obj(body.get("choice")))
    for entry in items(body.get("answers")) + items(body.get("questions")):
        answers += _answers(obj(entry.get("question")) or entry, obj(entry.get("choice")))
    respondent = obj(body.get("respondent"))
    hidden = _attributes(respondent.get("attributes"))
    fields = obj(body.get("fields"))
    survey = obj(body.get("survey"))
    attributes = {"survey_id": str(survey["id"])} if survey.get("id") is not None else {}
    extracted = Extracted(NAME, response, answers, hidden=hidden, email=fields.get("email"),
                          responded_at=body.get("timestamp"), attributes=attributes)  # fmt: skip
    return to_response(extracted, mapping, RULES)
