"""The canonical NPS response every source is mapped to, and the events npsloop publishes about it."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from npsloop.scoring import Category, classify

COMMENT_MAX_CHARS = 32_000  # Comment__c is a Long Text Area of 32,768; the raw archive keeps the full text
TEXT_MAX_CHARS = 255
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _blank_is_absent(value: Any) -> Any:
    """A blank optional field counts as absent; surrounding white space is not content."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def is_email(value: str) -> bool:
    """The loose shape every address must have (one @, a dot in the domain, no spaces)."""
    return bool(_EMAIL.match(value))


OptionalText = Annotated[Annotated[str, Field(max_length=TEXT_MAX_CHARS)] | None, BeforeValidator(_blank_is_absent)]


def utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC; aware ones are converted to UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: datetime) -> str:
    return utc(value).isoformat().replace("+00:00", "Z")


# The models below are built on first use (defer_build), not at import: most functions import this module for a
# type and validate none of them, or one (README, "Cold start").
DEFERRED = ("CanonicalResponse", "ResponseEvent", "ScoredEvent", "LinkedEvent", "FetchJob")


class CanonicalResponse(BaseModel):
    """One NPS answer as npsloop understands it, whatever tool collected it."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    response_id: str = Field(min_length=3, max_length=255)  # "<source>:<vendor's id>"
    source: str
    score: int = Field(strict=True, ge=0, le=10)
    email: OptionalText = None
    name: OptionalText = None
    comment: Annotated[str | None, BeforeValidator(_blank_is_absent)] = None
    contact_id: OptionalText = None
    account_id: OptionalText = None
    touchpoint: OptionalText = None
    campaign: OptionalText = None
    locale: OptionalText = None
    responded_at: datetime | None = None
    updated_at: datetime | None = None
    attributes: dict[str, str] = Field(default_factory=dict)

    @field_validator("email")
    @classmethod
    def _email_shape(cls, value: str | None) -> str | None:
        if value is not None and not is_email(value):
            raise ValueError("not an email address")
        return value

    @field_validator("comment")
    @classmethod
    def _comment_length(cls, value: str | None) -> str | None:
        return value[:COMMENT_MAX_CHARS] if value else value

    @field_validator("responded_at", "updated_at")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else utc(value)

    @field_validator("attributes", mode="before")
    @classmethod
    def _attributes_as_text(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out = {}
        for key, item in value.items():
            item = _blank_is_absent(item)
            if item is None:
                continue
            out[str(key)] = (
                item if isinstance(item, str) else str(item).lower() if isinstance(item, bool) else str(item)
            )
        return out

    @property
    def category(self) -> Category:
        return classify(self.score)

    def content_hash(self) -> str:
        """Identity of the content: two deliveries with the same hash are the same answer."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()

    def version_at(self, received_at: datetime) -> datetime:
        """When this version of the answer was given: updated_at, else responded_at, else receive time."""
        return self.updated_at or self.responded_at or utc(received_at)


EVENT_SOURCE = "npsloop"
SCHEMA_VERSION = "1"
BATCH_KEY = "responses"  # the detail of an event about many responses: {"version": "1", "responses": [detail, ...]}


class ResponseEvent(BaseModel):
    """Detail of ResponseReceived and ResponseScored: a revision of one response."""

    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)  # and ScoredEvent, LinkedEvent

    version: Literal["1"] = SCHEMA_VERSION
    revision: int = Field(ge=1)
    received_at: datetime
    historical: bool = False
    response: CanonicalResponse

    @property
    def period_time(self) -> datetime:
        """The time an answer is counted at: responded_at in UTC, receive time when absent."""
        return self.response.responded_at or utc(self.received_at)


class ScoredEvent(ResponseEvent):
    """Detail of ResponseScored: the response with its category and what its comment was found to be about."""

    category: Category
    themes: list[str] = Field(default_factory=list)
    sentiment: str | None = None  # POSITIVE, NEGATIVE, NEUTRAL or MIXED; None when sentiment analysis is off


class LinkedEvent(ScoredEvent):
    """Detail of ResponseLinked: the scored response on the Contact and Account the sync matched, with what the same
    lookup said about emailing that person (so the thank-you needs no Salesforce call of its own)."""

    email_opted_out: bool = False  # HasOptedOutOfEmail (PersonHasOptedOutOfEmail) on any record with the address
    marketing_consent: bool | None = None  # the configured consent field of the matched Contact, when configured


class FetchJob(BaseModel):
    """A delivery of a tool that sends only ids: which response to read from the tool's API, queued for fetch_response.

    `archive_key` is the archived delivery's id, marked rejected when the fetched response cannot be mapped.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    version: Literal["1"] = SCHEMA_VERSION
    source: str
    response_id: str  # "<source>:<vendor's id>", as the record will be called
    ids: dict[str, str]
    received_at: datetime
    archive_key: str | None = None
    historical: bool = False
