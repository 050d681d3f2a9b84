"""SurveyMonkey's webhooks carry only ids (Sm-Signature over the raw body): the delivery is queued and the response
is read from the API v3 (response details and survey details, to turn the NPS choice into its number)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from npsloop.errors import MalformedPayloadError, NoNpsAnswerError, SignatureError
from npsloop.mapping import SourceMapping
from npsloop.models import CanonicalResponse, FetchJob
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
from npsloop.sources.fetching import get_json

NAME = "surveymonkey"
CONTENT_TYPES = (JSON,)
API = "https://api.surveymonkey.com"
RESPONSE_EVENTS = ("response_completed", "response_updated")
RULES = Rules(scale_types=("nps",), comment_types=("open_ended",))


def verify(delivery: Delivery, secret: Mapping[str, str]) -> None:
    """`Sm-Signature` = base64(HMAC-SHA1(key "{api_key}&{api_secret}", raw body)); SurveyMonkey signs no timestamp."""
    api_key = secret.get("api_key") or secret.get("client_id") or required_secret(secret, "api_key", NAME)
    api_secret = required_secret(secret, "api_secret", NAME)
    key = f"{api_key}&{api_secret}".encode()
    expected = base64.b64encode(hmac.new(key, delivery.body, hashlib.sha1).digest()).decode()
    if not same(expected, delivery.header("sm-signature")):
        raise SignatureError("Sm-Signature is missing or does not match the body")


def parse(delivery: Delivery, mapping: SourceMapping | None = None) -> FetchJob:
    data = json_object(delivery.body)
    event = data.get("event_type")
    if event not in RESPONSE_EVENTS or data.get("object_type", "response") != "response":
        raise NoNpsAnswerError(f"event {str(event)[:50]} carries no answer")
    response = vendor_id(data.get("object_id"), "object_id")
    resources = obj(data.get("resources"))
    survey = resources.get("survey_id") or (data.get("filter_id") if data.get("filter_type") == "survey" else None)
    survey = vendor_id(survey, "resources.survey_id")
    if not re.fullmatch(r"[\w-]+", survey) or not re.fullmatch(r"[\w-]+", response):
        raise MalformedPayloadError("survey and response ids must be letters, digits, '-' or '_'", field="object_id")
    return FetchJob(source=NAME, response_id=f"{NAME}:{response}", ids={"survey_id": survey, "response_id": response},
                    received_at=delivery.received_at)  # fmt: skip


def _choice_numbers(question: Mapping[str, Any]) -> dict[str, int]:
    """{choice id: 0..10} when the question's choices are an 11-point 0-10 scale (SurveyMonkey's NPS question)."""
    choices = sorted(items(obj(question.get("answers")).get("choices")), key=lambda c: c.get("position") or 0)
    if len(choices) != 11:
        return {}
    leading = [re.match(r"\s*(\d{1,2})\b", str(c.get("text", ""))) for c in choices]
    numbers = [int(m.group(1)) for m in leading if m]
    if sorted(numbers) != list(range(11)):
        numbers = list(range(11))  # unlabelled choices: their order is the scale
    return {str(c.get("id")): n for c, n in zip(choices, numbers, strict=True)}


def fetch(job: FetchJob, secret: Mapping[str, str], mapping: SourceMapping | None = None) -> CanonicalResponse:
    """Read the response and its survey's details; a FetchError when the API does not answer as it should."""
    token = secret.get("access_token")
    if not token:
        from npsloop.errors import FetchError

        raise FetchError("surveymonkey has no access_token configured in the secret")
    base = (secret.get("base_url") or API).rstrip("/")
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    survey_id, response_id = quote(job.ids["survey_id"]), quote(job.ids["response_id"])
    details = get_json(f"{base}/v3/surveys/{survey_id}/details", headers, "SurveyMonkey survey details")
    response = get_json(f"{base}/v3/surveys/{survey_id}/responses/{response_id}/details", headers,
                        "SurveyMonkey response details")  # fmt: skip
    questions = {str(q.get("id")): q for page in items(details.get("pages")) for q in items(page.get("questions"))}
    answers: list[Answer] = []
    for page in items(response.get("pages")):
        for asked in items(page.get("questions")):
            qid = str(asked.get("id"))
            question = questions.get(qid, {})
            numbers = _choice_numbers(question)
            choices = {str(c.get("id")): c.get("text") for c in items(obj(question.get("answers")).get("choices"))}
            heading = next((h.get("heading") for h in items(question.get("headings"))), None)
            family = question.get("family")
            for given in items(asked.get("answers")):
                choice = str(given.get("choice_id")) if given.get("choice_id") is not None else None
                if choice is not None and numbers:
                    answers.append(Answer(id=qid, value=numbers.get(choice), type="nps", title=heading))
                elif choice is not None:
                    answers.append(Answer(id=qid, value=choices.get(choice), type=family, title=heading))
                elif "text" in given:
                    answers.append(Answer(id=qid, value=given.get("text"), type=family, title=heading))
    contact = obj(obj(response.get("metadata")).get("contact"))
    email = obj(contact.get("email")).get("value")
    hidden = {str(k): v for k, v in obj(response.get("custom_variables")).items()}
    extracted = Extracted(NAME, job.ids["response_id"], answers, hidden=hidden, email=email,
                          responded_at=_time(response.get("date_created")),
                          updated_at=_time(response.get("date_modified")),
                          attributes={"survey_id": job.ids["survey_id"]})  # fmt: skip
    return to_response(extracted, mapping, RULES)


def _time(value: Any) -> Any:
    """SurveyMonkey's times ("2016-01-01T21:56:31+00:00") as datetimes; anything unreadable is left out."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
