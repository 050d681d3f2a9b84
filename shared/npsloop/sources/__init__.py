"""Source adapters by name: each survey tool is one module with `verify` and `parse`."""

from __future__ import annotations

import importlib

from npsloop.errors import UnknownSourceError
from npsloop.sources.base import Delivery, SourceAdapter

SOURCES = (
    "typeform", "surveymonkey", "qualtrics", "survicate", "formbricks", "tally", "jotform", "trustmary", "zapier",
    "generic", "email",
)  # fmt: skip


def adapter(name: str) -> SourceAdapter:
    """The adapter module of a source, imported on first use so a cold start pays only for the one it needs."""
    if name not in SOURCES:
        raise UnknownSourceError(f"unknown source '{name[:50]}'; known sources: {', '.join(SOURCES)}", field="source")
    return importlib.import_module(f"npsloop.sources.{name}")  # type: ignore[return-value]


__all__ = ["SOURCES", "Delivery", "SourceAdapter", "adapter"]
