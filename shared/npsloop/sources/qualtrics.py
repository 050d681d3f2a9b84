"""Qualtrics event subscriptions: a form with only ids, signed by the HMAC form field over MSG (the subscription's
sharedKey); the response is read from the API v3 by fetch_response."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from npsloop.errors import FetchError, MalformedPayloadError, NoNpsAnswerError, SignatureError
from npsloop.mapping import SourceMapping
from npsloop.models import CanonicalResponse, FetchJob
from npsloop.sources.base import (
    FORM,
    Answer,
    Delivery,
    Extracted,
    Rules,
    form_fields,
    obj,
    required_secret,
    same,
    to_response,
    vendor_id,
)
from npsloop.sources.fetching import get_json

NAME = "qualtrics"
CONTENT_TYPES = (FORM,)
QUESTION = re.compile(r"^QID\d+$")
# Qualtrics' NPS question gives QIDn (0-10) and QIDn_NPS_GROUP; otherwise the only integer 0-10 QID answer.
RULES = Rules(scale_types=("nps",), comment_types=("text",), numeric_fallback=True)
SKIPPED = ("_recordId", "responseId", "status", "ipAddress", "progress", "duration", "finished", "locationLatitude",
           "locationLongitude", "distributionChannel", "userLanguage", "recipientFirstName", "recipientLastName",
           "recipientEmail", "startDate", "endDate", "recordedDate")  # fmt: skip


def verify(delivery: Delivery, secret: Mapping[str, str]) -> None:
    """The `HMAC` form field = hex HMAC-SHA512(sharedKey, the URL-decoded `MSG` field), compared in constant time."""
    key = required_secret(secret, "signing_secret", NAME)
    try:
        fields = form_fields(delivery.body)
    except MalformedPayloadError:
        raise SignatureError("the body is not the signed form Qualtrics sends (Topic, MSG, HMAC)") from None
    if "MSG" not in fields or "HMAC" not in fields:
        raise SignatureError("the delivery is unsigned: subscribe with a sharedKey so Qualtrics adds MSG and HMAC")
    expected = hmac.new(key.encode(), fields["MSG"].encode(), hashlib.sha512).hexdigest()
    if not same(expected, fields["HMAC"].lower()):
        raise SignatureError("the HMAC form field does not match MSG")


def parse(delivery: Delivery, mapping: SourceMapping | None = None) -> FetchJob:
    fields = form_fields(delivery.body)
    message: dict[str, Any] = dict(fields)
    if "MSG" in fields:
        try:
            message = json.loads(fields["MSG"])
        except (ValueError, RecursionError):
            raise MalformedPayloadError("the MSG form field is not JSON", field="MSG") from None
        if not isinstance(message, dict):
            raise MalformedPayloadError("the MSG form field must be a JSON object", field="MSG")
    topic = str(fields.get("Topic", ""))
    if "completedResponse" not in topic and message.get("Status") != "Complete":
        raise NoNpsAnswerError(f"topic {topic[:80]} is not a completed response")
    response = vendor_id(message.get("ResponseID"), "ResponseID")
    survey = vendor_id(message.get("SurveyID"), "SurveyID")
    if not re.fullmatch(r"[\w-]+", survey) or not re.fullmatch(r"[\w-]+", response):
        raise MalformedPayloadError("SurveyID and ResponseID must be letters, digits, '-' or '_'", field="ResponseID")
    ids = {"survey_id": survey, "response_id": response}
    ids.update(
        {
            k: v
            for k, v in (
                ("recipient_id", message.get("RecipientID")),
                ("distribution_id", message.get("DistributionID")),
            )
            if isinstance(v, str) and v
        }
    )
    return FetchJob(source=NAME, response_id=f"{NAME}:{response}", ids=ids, received_at=delivery.received_at)


def fetch(job: FetchJob, secret: Mapping[str, str], mapping: SourceMapping | None = None) -> CanonicalResponse:
    """GET /API/v3/surveys/{SurveyID}/responses/{ResponseID} with the X-API-TOKEN from the secret."""
    token, base = secret.get("api_token"), secret.get("base_url")
    if not token or not base:
        raise FetchError("qualtrics needs api_token and base_url (https://<datacenter>.qualtrics.com) in the secret")
    url = f"{base.rstrip('/')}/API/v3/surveys/{quote(job.ids['survey_id'])}/responses/{quote(job.ids['response_id'])}"
    result = obj(get_json(url, {"X-API-TOKEN": token, "Accept": "application/json"}, "Qualtrics response").get(
        "result"))  # fmt: skip
    values = obj(result.get("values"))
    labels = obj(result.get("labels"))
    answers: list[Answer] = []
    hidden: dict[str, Any] = {}
    for key, value in values.items():
        if QUESTION.match(key):
            kind = "nps" if f"{key}_NPS_GROUP" in values else None
            answers.append(Answer(id=key, value=value, type=kind, title=_str(labels.get(key))))
        elif key.startswith("QID") and key.endswith("_TEXT"):
            answers.append(Answer(id=key, value=value, type="text"))
        elif not key.startswith("QID") and key not in SKIPPED:
            hidden[key] = value  # embedded data
    attributes = {"survey_id": job.ids["survey_id"]}
    attributes.update({k: v for k, v in job.ids.items() if k in ("recipient_id", "distribution_id")})
    extracted = Extracted(NAME, job.ids["response_id"], answers, hidden=hidden, email=values.get("recipientEmail"),
                          responded_at=_time(values.get("endDate") or values.get("recordedDate")),
                          attributes=attributes)  # fmt: skip
    return to_response(extracted, mapping, RULES)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _time(value: Any) -> Any:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
