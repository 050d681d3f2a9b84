"""The field mapping document: per source, which question is the NPS one, which are comment and email, and which
hidden fields carry contact id, account id, touchpoint, campaign and locale."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from npsloop.errors import ConfigurationError

HIDDEN_TARGETS = ("contact_id", "account_id", "touchpoint", "campaign", "locale", "name", "email")
CACHE_SECONDS = 300


class Selector(BaseModel):
    """Picks a question by its id, ref (a stable key), title or type; when several are given, all must match."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str | None = None
    ref: str | None = None
    title: str | None = None
    type: str | None = None

    @model_validator(mode="after")
    def _names_something(self) -> Selector:
        if not any((self.id, self.ref, self.title, self.type)):
            raise ValueError("a question selector needs one of id, ref, title or type")
        return self


class SourceMapping(BaseModel):
    """One source's mapping; what is left out falls back to that tool's defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    score: Selector | None = None
    comment: Selector | None = None
    email: Selector | None = None
    hidden: dict[str, str] = Field(default_factory=dict)  # canonical field -> the tool's hidden field name

    @field_validator("hidden")
    @classmethod
    def _known_targets(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(HIDDEN_TARGETS))
        if unknown:
            raise ValueError(f"unknown fields {unknown}; hidden fields map to {list(HIDDEN_TARGETS)}")
        return value


class MappingDocument:
    """The whole document, `{"<source>": {...}}`; each source's part is validated when that source is used,
    so a mistake in one source's mapping never stops the others."""

    def __init__(self, raw: Any = None):
        self.raw = raw if isinstance(raw, dict) else {}
        self._validated: dict[str, SourceMapping | None] = {}

    def for_source(self, source: str) -> SourceMapping | None:
        if source not in self._validated:
            self._validated[source] = self._validate(source)
        return self._validated[source]

    def _validate(self, source: str) -> SourceMapping | None:
        part = self.raw.get(source)
        if part is None:
            return None
        try:
            return SourceMapping.model_validate(part)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigurationError(f"the field mapping of '{source}' is wrong at '{where}': {first['msg']}") from None


@lru_cache(maxsize=8)  # the same document text on every request of a container: parsed once
def parse_mapping(text: str | None) -> MappingDocument:
    import json

    if not text or not text.strip():
        return MappingDocument()
    try:
        raw = json.loads(text)
    except ValueError:
        raise ConfigurationError("the field mapping document is not valid JSON") from None
    if not isinstance(raw, dict):
        raise ConfigurationError("the field mapping document must be a JSON object keyed by source")
    return MappingDocument(raw)


def load_mapping(parameter_name: str | None) -> MappingDocument:
    """The document from its SSM parameter, cached for a few minutes per container; none configured is empty."""
    if not parameter_name:
        return MappingDocument()
    from npsloop.aws import parameter

    return parse_mapping(parameter(parameter_name, CACHE_SECONDS))
