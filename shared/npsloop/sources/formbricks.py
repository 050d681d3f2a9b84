"""Formbricks' response webhooks (responseCreated/Updated/Finished): answers keyed by question id in data.data;
signed with Standard Webhooks, whose timestamp guards against replays."""

from __future__ import annotations

from collections.abc import Mapping

from npsloop.errors import MalformedPayloadError, NoNpsAnswerError
from npsloop.mapping import SourceMapping
from npsloop.models import CanonicalResponse
from npsloop.sources.base import JSON, Answer, Delivery, Extracted, Rules, json_object, obj, to_response, vendor_id
from npsloop.sources.standard_webhooks import verify_standard_webhooks

NAME = "formbricks"
CONTENT_TYPES = (JSON,)
EVENTS = ("responseCreated", "responseUpdated", "responseFinished")
# Formbricks sends no question types: without a mapping, the NPS answer is the only integer 0-10 answer.
RULES = Rules(numeric_fallback=True)


def verify(delivery: Delivery, secret: Mapping[str, str]) -> None:
    verify_standard_webhooks(delivery, secret, NAME)


def parse(delivery: Delivery, mapping: SourceMapping | None = None) -> CanonicalResponse:
    payload = json_object(delivery.body)
    if payload.get("event") not in EVENTS:
        raise NoNpsAnswerError(f"event {str(payload.get('event'))[:50]} is not a response")
    data = payload.get("data")
    if not isinstance(data, dict):
        raise MalformedPayloadError("data is required: a JSON object", field="data")
    response = vendor_id(data.get("id"), "data.id")
    values = obj(data.get("data"))
    answers = [Answer(id=str(qid), value=value) for qid, value in values.items()]
    contact = obj(data.get("contact"))
    attributes = {key: str(data[key]) for key in ("surveyId",) if isinstance(data.get(key), str)}
    if isinstance(contact.get("userId"), str):
        attributes["formbricks_user_id"] = contact["userId"]
    # hidden fields are answers too (keyed by their id), so every value can be named in the mapping's `hidden`
    extracted = Extracted(NAME, response, answers, hidden=dict(values), email=obj(data.get("contactAttributes")).get(
        "email"), responded_at=data.get("createdAt"), updated_at=data.get("updatedAt"), attributes=attributes,
        other_hidden_as_attributes=False)  # fmt: skip
    return to_response(extracted, mapping, RULES)
