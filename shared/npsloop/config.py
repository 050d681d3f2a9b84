"""Settings each function reads from its environment, validated on first use (never at import)."""

from __future__ import annotations

import os
from functools import cache
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from npsloop.errors import ConfigurationError

MAX_BODY_BYTES = 256 * 1024


class _Settings(BaseModel):
    # Each function reads one of these classes: its validator is built on first use, not for all ten at import.
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)


class _WriterSettings(_Settings):
    """What every function that stores responses needs: each revision is stored with what it counts for."""

    responses_table: str
    custom_segments: str = ""  # comma-separated attribute names counted as segments besides the built-in ones
    theme_taxonomy: str = ""  # JSON laid over the default taxonomy (npsloop.analysis.themes.Taxonomy.configured)

    @property
    def segments(self) -> tuple[str, ...]:
        from npsloop.aggregation import counted_segments

        return counted_segments(s.strip() for s in self.custom_segments.split(","))


class IngestSettings(_WriterSettings):
    archive_stream: str  # Firehose delivery stream of accepted deliveries (raw/)
    unauthenticated_archive_stream: str  # and of refused ones (unauthenticated/, kept 7 days)
    secret_arn: str
    fetch_queue_url: str
    mapping_parameter: str | None = None
    max_body_bytes: int = MAX_BODY_BYTES


class FetchSettings(_WriterSettings):
    archive_stream: str  # marks a fetched delivery rejected
    secret_arn: str
    fetch_queue_url: str
    mapping_parameter: str | None = None


class ScoreSettings(_Settings):
    responses_table: str
    aggregates_table: str
    event_bus_name: str
    sentiment_analysis: str = "off"  # "comprehend" to ask Amazon Comprehend


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
    sync_queue_url: str
    sync_dlq_url: str
    responses_table: str
    event_bus_name: str
    salesforce_api_version: str = "62.0"
    sync_unmatched: Literal["keep", "lead"] = "keep"
    salesforce_person_accounts: bool = False
    salesforce_api_share: float = Field(default=0.5, gt=0, le=1)  # slow down past this share of the daily calls
    sync_backoff_seconds: int = Field(default=5, ge=0)  # first retry delay; doubles with each receive
    sync_backoff_max_seconds: int = Field(default=900, ge=0)


class NotifySettings(_Settings):
    secret_arn: str
    notify_table: str
    opt_outs_table: str
    hooks_table: str
    deliveries_queue_url: str
    ses_configuration_set: str | None = None
    public_api_url: str | None = None  # the secret's notify.public_url wins (a custom domain)
    salesforce_api_version: str = "62.0"


class HooksApiSettings(_Settings):
    api_keys_table: str
    hooks_table: str
    responses_table: str  # recent responses (GET /responses) from its ByMonth index
    allow_loopback_targets: bool = False  # only the local stack sets it (`npsloop local --allow-loopback-targets`)


class DeliverSettings(_Settings):
    secret_arn: str
    hooks_table: str
    notify_table: str
    deliveries_queue_url: str
    deliveries_dlq_url: str
    allow_loopback_targets: bool = False


class UnsubscribeSettings(_Settings):
    secret_arn: str
    opt_outs_table: str


class SurveysApiSettings(_Settings):
    secret_arn: str
    api_keys_table: str
    notify_table: str
    opt_outs_table: str
    survey_queue_url: str
    salesforce_api_version: str = "62.0"


class SendSurveySettings(_Settings):
    secret_arn: str
    notify_table: str
    opt_outs_table: str
    ses_configuration_set: str | None = None
    public_api_url: str | None = None  # the secret's notify.public_url wins (a custom domain)
    survey_reminder_days: int = Field(default=0, ge=0, le=365)  # 0: no reminders (the secret may set touchpoints)


class RemindSurveysSettings(_Settings):
    notify_table: str
    responses_table: str
    survey_queue_url: str


class AnswerSurveySettings(_WriterSettings):
    """Both the answer pages and record_click: they record through ingest."""

    secret_arn: str
    notify_table: str
    archive_stream: str
    unauthenticated_archive_stream: str
    click_queue_url: str


class EmailFeedbackSettings(_Settings):
    opt_outs_table: str


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
