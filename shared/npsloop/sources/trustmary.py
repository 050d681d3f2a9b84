"""Trustmary's survey answer webhook: answer_values.nps is the 0-10 answer; Trustmary cannot sign, so it
authenticates with the per-source token."""

from __future__ import annotations

from collections.abc import Mapping

from npsloop.mapping import SourceMapping
from npsloop.models import CanonicalResponse
from npsloop.sources.base import (
    JSON,
    Answer,
    Delivery,
    Extracted,
    Rules,
    check_token,
    json_object,
    obj,
    to_response,
    vendor_id,
)

NAME = "trustmary"
CONTENT_TYPES = (JSON,)
RULES = Rules(scale_types=("nps",), email_types=("email",), comment_types=("comment", "feedback"))


def verify(delivery: Delivery, secret: Mapping[str, str]) -> None:
    check_token(delivery, secret, NAME)


def parse(delivery: Delivery, mapping: SourceMapping | None = None) -> CanonicalResponse:
    """Trustmary documents its attributes as a flat list, so both `answer.answer_values.nps` and `answer.nps`
    (and the same without the `answer` wrapper) are read."""
    data = json_object(delivery.body)
    root = obj(data.get("answer")) or data
    values = obj(root.get("answer_values")) or root
    response = vendor_id(root.get("answer_id") or root.get("id"), "answer.answer_id")
    answers = [Answer(id=key, value=values[key], type=key) for key in ("nps", "comment", "feedback", "email")
               if key in values]  # fmt: skip
    answers += [Answer(id=str(qid), value=value) for qid, value in obj(values.get("custom")).items()]
    contact = obj(root.get("contact"))
    hidden = {str(k): v for k, v in contact.items()}
    attributes = {"survey_id": root["survey_id"]} if isinstance(root.get("survey_id"), str) else {}
    extracted = Extracted(NAME, response, answers, hidden=hidden, email=root.get("email") or contact.get("email"),
                          responded_at=root.get("created_at"), attributes=attributes)  # fmt: skip
    return to_response(extracted, mapping, RULES)
