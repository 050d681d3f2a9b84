"""Settings each function reads from its environment, validated on first use (never at import)."""

from __future__ import annotations

import os
from functools import cache
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from npsloop.errors import ConfigurationError

MAX_BODY_BYTES = 256 * 1024


class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class IngestSettings(_Settings):
    responses_table: str
    archive_bucket: str
    event_bus_name: str
    secret_arn: str
    max_body_bytes: int = MAX_BODY_BYTES


class ScoreSettings(_Settings):
    responses_table: str
    aggregates_table: str
    event_bus_name: str
    custom_segments: str = ""  # comma-separated attribute names counted as segments besides the built-in ones
    theme_taxonomy: str = ""  # JSON laid over the default taxonomy (npsloop.analysis.themes.Taxonomy.configured)
    sentiment_analysis: str = "off"  # "comprehend" to ask Amazon Comprehend

    @property
    def segments(self) -> tuple[str, ...]:
        from npsloop.aggregation import counted_segments

        return counted_segments(s.strip() for s in self.custom_segments.split(","))


class ReportsSettings(_Settings):
    responses_table: str
    aggregates_table: str
    api_keys_table: str
    custom_segments: str = ""
    theme_taxonomy: str = ""
    sentiment_analysis: str = "off"
    export_emails: bool = False  # whether /responses.csv may include email addresses when asked for
    session_secret_arn: str  # the secret whose value signs dashboard session cookies

    @property
    def segments(self) -> tuple[str, ...]:
        from npsloop.aggregation import BUILT_IN_SEGMENTS

        return tuple(dict.fromkeys([*BUILT_IN_SEGMENTS, *(s.strip() for s in self.custom_segments.split(",") if
                                                            s.strip())]))  # fmt: skip


class SyncSettings(_Settings):
    secret_arn: str
    sync_dlq_url: str
    salesforce_api_version: str = "62.0"


class NotifySettings(_Settings):
    secret_arn: str


S = TypeVar("S", bound=_Settings)


@cache
def settings(kind: type[S]) -> S:
    """The settings of `kind` from upper-case environment variables named like its fields."""
    env = {name: os.environ[name.upper()] for name in kind.model_fields if name.upper() in os.environ}
    try:
        return kind(**env)
    except ValidationError as exc:
        problems = ", ".join(f"{str(e['loc'][0]).upper()} ({e['msg']})" for e in exc.errors())
        raise ConfigurationError(f"environment is incomplete: {problems}") from None
