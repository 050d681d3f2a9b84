"""What every source adapter shares: the delivery it reads, body decoding, token and HMAC checks, and the mapping of
a tool's answers to one canonical response."""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from npsloop.errors import (
    MalformedPayloadError,
    NoNpsAnswerError,
    SignatureError,
    UnprocessableError,
    UnsupportedMediaTypeError,
)
from npsloop.mapping import HIDDEN_TARGETS, Selector, SourceMapping
from npsloop.models import CanonicalResponse

logger = Logger(child=True)

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
TOKEN_HEADER = "x-npsloop-token"  # noqa: S105 (a header name, not a secret)
TOKEN_QUERY = "token"  # noqa: S105 (a parameter name)
MAX_FORM_FIELDS = 1000


@dataclass(frozen=True)
class Delivery:
    """One HTTP delivery exactly as it arrived: the raw body bytes, lower-cased headers and the query string."""

    source: str
    body: bytes
    headers: Mapping[str, str]
    received_at: datetime
    query: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def media_type(self) -> str:
        """The content type without parameters, lower case ('' when the sender gave none)."""
        return (self.header("content-type") or "").split(";", 1)[0].strip().lower()


class SourceAdapter(Protocol):
    """A survey tool: `verify` authenticates a delivery over its raw bytes, `parse` maps it to a response.

    Each module also names the CONTENT_TYPES it can be sent. Tools that send only ids return a FetchJob from
    `parse` and have a `fetch` that reads the full response from the tool's API.
    """

    CONTENT_TYPES: tuple[str, ...]

    def verify(self, delivery: Delivery, secret: Mapping[str, str]) -> None: ...

    def parse(self, delivery: Delivery, mapping: SourceMapping | None = None) -> Any: ...


# --- bodies ---------------------------------------------------------------------------------------------------------
def require_media_type(delivery: Delivery, allowed: tuple[str, ...]) -> str:
    """The delivery's media type when the source can send it, else a 415 that names what it sends."""
    media = delivery.media_type
    if media in allowed or (JSON in allowed and media.startswith("application/") and media.endswith("+json")):
        return media
    shown = media or "none"
    raise UnsupportedMediaTypeError(
        f"content type '{shown}' is not one {delivery.source} sends; expected {' or '.join(allowed)}",
        field="content-type",
    )


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or a 400 that says why it is not one."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MalformedPayloadError(f"body is not valid JSON: {str(exc)[:200]}") from None
    if not isinstance(data, dict):
        raise MalformedPayloadError("body must be a JSON object")
    return data


def form_fields(body: bytes) -> dict[str, str]:
    """An application/x-www-form-urlencoded body as {name: first value}; a 400 when it is not one."""
    from urllib.parse import parse_qsl

    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), errors="strict",
                          max_num_fields=MAX_FORM_FIELDS)  # fmt: skip
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedPayloadError(f"body is not a URL-encoded form: {str(exc)[:200]}") from None
    out: dict[str, str] = {}
    for name, value in pairs:
        out.setdefault(name, value)
    return out


def multipart_fields(delivery: Delivery) -> dict[str, str]:
    """A multipart/form-data body as {part name: text}, parsed with the standard library's MIME parser."""
    import email.parser
    import email.policy

    content_type = delivery.header("content-type") or ""
    if "boundary=" not in content_type.lower():
        raise MalformedPayloadError("multipart/form-data needs a boundary parameter in Content-Type")
    head = b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n"
    try:
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + delivery.body)
        parts = list(message.iter_parts()) if message.is_multipart() else []
    except Exception:  # the MIME parser raises assorted errors for hostile input
        raise MalformedPayloadError("body is not a readable multipart/form-data message") from None
    if not parts:
        raise MalformedPayloadError("multipart/form-data body has no parts")
    out: dict[str, str] = {}
    for part in parts[:MAX_FORM_FIELDS]:
        try:
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
        except Exception:
            raise MalformedPayloadError("a multipart part is unreadable") from None
        if isinstance(name, str) and name not in out and isinstance(payload, bytes):
            out[name] = payload.decode("utf-8", "replace")
    return out


def fields_of(delivery: Delivery, media: str) -> dict[str, Any]:
    """The body's top-level fields, whichever of JSON, form or multipart it was sent as."""
    if media == FORM:
        return form_fields(delivery.body)
    if media == MULTIPART:
        return multipart_fields(delivery)
    return json_object(delivery.body)


# --- authentication -------------------------------------------------------------------------------------------------
def required_secret(secret: Mapping[str, str], key: str, source: str) -> str:
    value = secret.get(key)
    if not value or not isinstance(value, str):
        raise SignatureError(f"source '{source}' has no {key} configured, so its deliveries cannot be verified")
    return value


def same(expected: str, given: str | None) -> bool:
    """Constant-time comparison of two texts (bytes, so non-ASCII input cannot raise)."""
    return hmac.compare_digest(expected.encode(), (given or "").encode("utf-8", "replace"))


def check_token(delivery: Delivery, secret: Mapping[str, str], source: str) -> None:
    """Tools that cannot sign: the per-source token in the X-Npsloop-Token header or the `token` query parameter."""
    token = required_secret(secret, "token", source)
    given = delivery.header(TOKEN_HEADER) or delivery.query.get(TOKEN_QUERY)
    if not given:
        raise SignatureError(f"{source} deliveries need the token: an X-Npsloop-Token header or ?token= in the URL")
    if not same(token, given):
        raise SignatureError(f"the token of this {source} delivery is wrong")


# --- mapping answers to a response ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Answer:
    """One answer of a tool, with what identifies its question: id, ref (a stable key), title and type."""

    id: str
    value: Any
    type: str | None = None
    ref: str | None = None
    title: str | None = None

    def matches(self, selector: Selector) -> bool:
        wanted = selector.model_dump(exclude_none=True)
        return bool(wanted) and all(
            (getattr(self, key) or "").casefold() == str(value).casefold() for key, value in wanted.items()
        )

    @property
    def label(self) -> str:
        return self.ref or self.id


@dataclass(frozen=True)
class Rules:
    """How a tool marks its questions, for the default mapping when none is configured.

    scale_types: question types that hold a 0-10 answer, in order of preference. When the tool sends no types
    (numeric_fallback), the candidates are the answers whose value is an integer 0-10.
    """

    scale_types: tuple[str, ...] = ()
    email_types: tuple[str, ...] = ()
    comment_types: tuple[str, ...] = ()
    numeric_fallback: bool = False
    numeric_text: bool = False  # "9" counts as 9 (tools whose values are all text)


@dataclass
class Extracted:
    """What an adapter read from a delivery before mapping: the tool's id, its answers, hidden fields, times."""

    source: str
    vendor_id: str
    answers: list[Answer]
    hidden: dict[str, Any] = field(default_factory=dict)
    email: Any = None  # an email the tool knows outside the answers (contact attributes, recipient)
    responded_at: Any = None
    updated_at: Any = None
    attributes: dict[str, Any] = field(default_factory=dict)
    other_hidden_as_attributes: bool = True  # False when `hidden` holds every answer (tools without hidden fields)


def _integer(value: Any, numeric_text: bool) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if numeric_text and isinstance(value, str) and re.fullmatch(r"\s*\d{1,2}\s*", value):
        return int(value)
    return None


def _find(answers: list[Answer], selector: Selector | None) -> Answer | None:
    if selector is None:
        return None
    return next((a for a in answers if a.matches(selector)), None)


def _score_answer(extracted: Extracted, mapping: SourceMapping, rules: Rules) -> Answer:
    answers = extracted.answers
    if mapping.score is not None:
        found = _find(answers, mapping.score)
        if found is None or found.value is None or found.value == "":
            raise NoNpsAnswerError("no NPS answer")
        return found
    for kind in rules.scale_types:
        candidates = [a for a in answers if (a.type or "").casefold() == kind.casefold() and a.value is not None]
        if candidates:
            return _one(extracted.source, candidates, f"type {kind}")
    if rules.numeric_fallback:
        candidates = [a for a in answers if (n := _integer(a.value, rules.numeric_text)) is not None and 0 <= n <= 10]
        if candidates:
            return _one(extracted.source, candidates, "the only 0-10 answer")
    raise NoNpsAnswerError("no NPS answer")


def _one(source: str, candidates: list[Answer], how: str) -> Answer:
    if len(candidates) > 1:
        names = ", ".join(a.label for a in candidates[:5])
        raise UnprocessableError(
            f"{len(candidates)} answers could be the NPS question ({names}); name it in the {source} field mapping",
            field="score",
        )
    logger.info("NPS question detected", extra={"source": source, "question": candidates[0].label, "by": how})
    return candidates[0]


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _first_of(answers: list[Answer], kinds: tuple[str, ...]) -> Answer | None:
    """The first answer with text of the first type in `kinds` that has one (types in order of preference)."""
    for kind in kinds:
        found = next((a for a in answers if (a.type or "") == kind and _text(a.value)), None)
        if found is not None:
            return found
    return None


def to_response(extracted: Extracted, mapping: SourceMapping | None, rules: Rules) -> CanonicalResponse:
    """Map a tool's answers to the canonical response, by the configured mapping or the tool's defaults.

    No NPS answer raises NoNpsAnswerError; an NPS answer that is not an integer 0-10 is a 422, never a guess.
    """
    mapping = mapping or SourceMapping()
    score_answer = _score_answer(extracted, mapping, rules)
    score = _integer(score_answer.value, rules.numeric_text)
    if score is None or not 0 <= score <= 10:
        raise UnprocessableError(
            f"the NPS answer ({score_answer.label}) must be an integer from 0 to 10, got {score_answer.value!r}"[:300],
            field="score",
        )
    answers = [a for a in extracted.answers if a is not score_answer]
    comment = _find(answers, mapping.comment) if mapping.comment else None
    if comment is None and mapping.comment is None:
        comment = _first_of(answers, rules.comment_types)
    email_answer = _find(answers, mapping.email) if mapping.email else None
    if email_answer is None and mapping.email is None:
        email_answer = _first_of(answers, rules.email_types)
    hidden = {str(k): v for k, v in extracted.hidden.items()}
    names = {target: mapping.hidden.get(target, target) for target in HIDDEN_TARGETS}
    canonical_hidden = {target: _text(hidden.get(name)) for target, name in names.items()}
    email = _text(email_answer.value) if email_answer else None
    email = email or canonical_hidden.pop("email", None) or _text(extracted.email)
    canonical_hidden.pop("email", None)
    used = set(names.values()) | {a.id for a in (score_answer, comment, email_answer) if a is not None}
    attributes: dict[str, Any] = {}
    if extracted.other_hidden_as_attributes:
        attributes = {k: v for k, v in hidden.items() if k not in used and _text(v) is not None}
    attributes.update({k: v for k, v in extracted.attributes.items() if v is not None})
    fields = {
        "response_id": f"{extracted.source}:{extracted.vendor_id}",
        "source": extracted.source,
        "score": score,
        "email": lenient_email(extracted.source, email),
        "comment": _text(comment.value) if comment else None,
        "responded_at": extracted.responded_at or None,
        "updated_at": extracted.updated_at or None,
        "attributes": attributes,
        **canonical_hidden,
    }
    return canonical(fields)


def lenient_email(source: str, value: str | None) -> str | None:
    """A survey tool's email answer that is not an address is left out (and logged without it), not fatal:
    the NPS answer still counts, it just cannot be matched by email."""
    if value is None:
        return None
    value = value.strip()
    if value and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        logger.info("email answer is not an address; left out", extra={"source": source})
        return None
    return value or None


def vendor_id(value: Any, where: str) -> str:
    """The tool's id of a response as text, or a 400 naming where it should have been."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise MalformedPayloadError(f"{where} is required: the tool's id of the response", field=where)
    return value.strip()


def canonical(fields: Mapping[str, Any], where: Mapping[str, str] | None = None) -> CanonicalResponse:
    """Build the canonical response; a field that does not fit is a 422 naming it (as the sender calls it)."""
    try:
        return CanonicalResponse(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "body"
        shown = (where or {}).get(name, name)
        if name == "score":
            got = fields.get("score")
            message = f"{shown} must be an integer from 0 to 10" + ("" if got is None else f", got {got!r}")
        else:
            message = f"{shown}: {first['msg']}"
        raise UnprocessableError(message[:300], field=shown) from None


def obj(value: Any) -> dict[str, Any]:
    """A JSON object or, for anything else a sender may put there, an empty one."""
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list[dict[str, Any]]:
    """The objects of a JSON array, skipping anything else."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
