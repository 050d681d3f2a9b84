"""What every source adapter shares: the delivery it reads, and the mapping of its fields to a canonical response."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pydantic import ValidationError

from npsloop.errors import MalformedPayloadError, SignatureError, UnprocessableError
from npsloop.models import CanonicalResponse


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


class SourceAdapter(Protocol):
    """A survey tool: `verify` authenticates a delivery over its raw bytes, `parse` maps it to a response."""

    def verify(self, delivery: Delivery, secret: Mapping[str, str]) -> None: ...

    def parse(self, delivery: Delivery) -> CanonicalResponse: ...


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or a 400 that says why it is not one."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedPayloadError(f"body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise MalformedPayloadError("body must be a JSON object")
    return data


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
        raise UnprocessableError(message, field=shown) from None


def required_secret(secret: Mapping[str, str], key: str, source: str) -> str:
    value = secret.get(key)
    if not value:
        raise SignatureError(f"source '{source}' has no {key} configured, so its deliveries cannot be verified")
    return value
